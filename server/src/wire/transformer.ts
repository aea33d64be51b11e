/**
 * The server's side of the wire: superjson's format both ways, with inputs decoded by the bounded
 * decoder (decode.ts) and outputs built by the fast serializer (serialize.ts). The client uses
 * superjson itself (`transformer` in @sessiond/shared); both speak the same format.
 */
import superjson from "superjson";
import { decodeEnvelope } from "./decode.ts";
import { serialize } from "./serialize.ts";

export const wireTransformer = {
  input: { serialize: superjson.serialize, deserialize: decodeEnvelope },
  output: { serialize, deserialize: superjson.deserialize },
};
