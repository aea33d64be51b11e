/**
 * The server's side of the wire: superjson's format both ways, with inputs decoded by the bounded
 * decoder (decode.ts) and, where the installed superjson is one the fast serializer was verified
 * against (http/internals.ts), outputs built by it (serialize.ts); otherwise superjson's own. The
 * client uses superjson itself (`transformer` in @sessiond/shared); both speak the same format.
 */
import superjson from "superjson";
import { decodeEnvelope } from "./decode.ts";
import { serialize } from "./serialize.ts";

export function createWireTransformer(fastSerializer: boolean) {
  return {
    input: { serialize: superjson.serialize, deserialize: decodeEnvelope },
    output: { serialize: fastSerializer ? serialize : superjson.serialize, deserialize: superjson.deserialize },
  };
}
