/** Test and benchmark fixtures for Zoom transcripts. */

const NAMES = ['Ada Lovelace', 'Charles Babbage', 'Grace Hopper'];

function ts(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}

/** A Zoom-style WebVTT transcript of `minutes` minutes: one cue every 4 seconds, three speakers in turn. */
export function longVtt(minutes: number, names: readonly string[] = NAMES): string {
  let out = 'WEBVTT\n';
  for (let i = 0, t = 0; t < minutes * 60_000; i++, t += 4000) out += `\n${i + 1}\n${ts(t)} --> ${ts(t + 3500)}\n${names[i % names.length]}: Sentence number ${i} about the quarterly numbers.\n`;
  return out;
}
