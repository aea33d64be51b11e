/** The one data transformer both ends use: Dates (createdAt, ...) cross the wire as Dates. */
import superjson from "superjson";

export const transformer = superjson;
