/**
 * The sandbox's notion of "now". Token lifetimes, code expiry, 90-day inactivity and
 * subscription expiry all read this clock, so tests can jump ahead (`advance`) instead of
 * waiting. Timers that only pace the sandbox itself (notification delays) use real time.
 */
export class SandboxClock {
  private offsetMs = 0;

  constructor(private readonly base: () => number = Date.now) {}

  now(): number {
    return this.base() + this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
  }
}

/** Graph's timestamps: ISO 8601 in UTC without milliseconds ("2024-05-01T10:00:00Z"). */
export function graphTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The identity platform's error timestamp format ("2024-05-01 10:00:00Z"). */
export function aadTime(ms: number): string {
  return graphTime(ms).replace('T', ' ');
}
