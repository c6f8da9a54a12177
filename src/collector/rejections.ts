// The heartbeats the collector refused, counted by reason for GET /metrics (in this process, since it started).

/** Each refusal's status and the reason /metrics names it by. */
export const REJECT_REASONS = {
  400: 'invalid',
  413: 'too_large',
  415: 'unsupported_media_type',
  422: 'idempotency_conflict',
  429: 'rate_limited',
  500: 'error',
  503: 'unavailable',
} as const;
export type RejectStatus = keyof typeof REJECT_REASONS;
export type RejectReason = (typeof REJECT_REASONS)[RejectStatus];

/** Counters for every reason, all present from the start (a series that appears late hides its first increase). */
export function createRejections() {
  const counts = new Map<RejectReason, number>(Object.values(REJECT_REASONS).map((reason) => [reason, 0]));
  return {
    /** One more refusal with this status. */
    count(status: RejectStatus): void {
      const reason = REJECT_REASONS[status];
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    },
    /** The counts so far, by reason. */
    snapshot(): ReadonlyMap<RejectReason, number> {
      return new Map(counts);
    },
  };
}

export type Rejections = ReturnType<typeof createRejections>;
