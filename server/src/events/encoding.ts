/**
 * Events as one instance holds them, and their encodings: each event is read from the store once,
 * shared by every subscriber that receives it, and each of its encodings is made once — the wire
 * object (opencode's shape, the same object for every tRPC subscriber) and the server-sent-events
 * frame. The encodings live as long as the event (the hub's bounded memory), nowhere else.
 */
import type { Session, SessionEvent, SessionEventType } from "@sessiond/shared";
import type { StoredEvent } from "../store/types.ts";
import type { DeliveredEvent } from "./types.ts";
import { jsonText } from "../wire/serialize.ts";

/** What an instance's events cost it, for /metrics. */
export interface EventCounters {
  /** Events read from the store (the reader following the log, and pages read for streams catching up). */
  eventsRead: number;
  /** SSE frames encoded. */
  framesEncoded: number;
}

export class LiveEvent implements DeliveredEvent {
  readonly id: number;
  readonly type: SessionEventType;
  readonly session: Session;
  /** The session's ancestors (store/types.ts StoredEvent), for tree filters. */
  readonly ancestry: string | null;
  /** About how many bytes its JSON takes. */
  readonly size: number;
  readonly message: SessionEvent;
  readonly #counters: EventCounters;
  #frame: Buffer | undefined;

  constructor(stored: StoredEvent, counters: EventCounters) {
    this.id = stored.id;
    this.type = stored.type;
    this.session = stored.session;
    this.ancestry = stored.ancestry;
    this.size = stored.size;
    this.message = { type: stored.type, properties: { info: stored.session } };
    this.#counters = counters;
  }

  /** Whether `frame` has been encoded (its cost is paid). */
  get encoded(): boolean {
    return this.#frame !== undefined;
  }

  /** `id: <id>`, `data: <JSON>` (dates as ISO strings), encoded on first use. */
  get frame(): Buffer {
    if (this.#frame === undefined) {
      // JSON.stringify(this.message)'s bytes (the type is one of a fixed set of plain names).
      const data = `{"type":"${this.message.type}","properties":{"info":${jsonText(this.message.properties.info)}}}`;
      this.#frame = Buffer.from(`id: ${this.id}\ndata: ${data}\n\n`);
      this.#counters.framesEncoded++;
    }
    return this.#frame;
  }
}

/** How many joined groups are kept: subscribers in step take the same groups one after another. */
const KEPT_GROUPS = 4;

/**
 * Groups of frames as one chunk each (one socket write per group). A group that is every event of
 * a stretch of the log (an unfiltered stream's) is joined once for all the subscribers that take
 * it; the last few are kept. A filtered group is the subscriber's own.
 */
export class SseChunks {
  readonly #groups = new Map<string, Buffer>();

  chunk(events: readonly LiveEvent[], wholeStretch: boolean): Buffer {
    if (events.length === 1) return events[0]!.frame;
    if (!wholeStretch) return Buffer.concat(events.map((event) => event.frame));
    // Every event between the first and the last: the two IDs name the content.
    const key = `${events[0]!.id}-${events.at(-1)!.id}`;
    let chunk = this.#groups.get(key);
    if (chunk === undefined) {
      chunk = Buffer.concat(events.map((event) => event.frame));
      this.#groups.set(key, chunk);
      if (this.#groups.size > KEPT_GROUPS) this.#groups.delete(this.#groups.keys().next().value!);
    }
    return chunk;
  }
}
