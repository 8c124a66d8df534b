// Testpress durations: "H:MM:SS", sometimes with microseconds ("2:47:53.076906"), sometimes "0.00" (providers.md §2.8).

/** Seconds (with any fraction) in a Testpress duration, or null when there is none. */
export function durationSeconds(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const text = String(value).trim();
  const clock = /^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$/.exec(text);
  if (clock) return Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  throw new Error(`expected a duration "H:MM:SS", got ${JSON.stringify(value)}`);
}
