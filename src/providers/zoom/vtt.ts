import type { TranscriptSegment } from '../../domain/event.js';

/**
 * WebVTT → transcript segments, as Zoom writes its cloud transcripts:
 *
 *     WEBVTT
 *
 *     1
 *     00:00:01.000 --> 00:00:04.500
 *     Ada Lovelace: Hello everyone.
 *
 * Speakers come as a `Name: ` prefix on the cue's first line (Zoom) or a `<v Name>` voice tag
 * (the WebVTT standard); cues without either have no speaker. Tolerant by design: a BOM, CRLF
 * or CR line ends, cue settings, NOTE/STYLE/REGION blocks, missing cue numbers, hours beyond 99
 * and markup are handled; malformed cues are skipped and counted, never thrown. The input is
 * untrusted text from the network, so every path is linear in its size.
 */
export type { TranscriptSegment };

export interface ParsedTranscript {
  segments: TranscriptSegment[];
  /** Distinct speakers in order of first appearance. */
  speakers: string[];
  /** Cues that could not be read (bad timings, empty text), skipped. */
  skipped: number;
  /** False when the file does not start with the `WEBVTT` signature (the cues are still read). */
  signature: boolean;
}

/** A speaker prefix: up to 100 characters without a colon, then `: `. */
const SPEAKER_PREFIX = /^([^:<>\n]{1,100}?):\s+(.*)$/;
const VOICE = /^<v(?:\.[^\s>]*)?\s+([^>]{1,200})>/;
const TIMING = /^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})(?:\s.*)?$/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', nbsp: '\u00a0', lrm: '\u200e', rlm: '\u200f', quot: '"', apos: "'" };

/** `hh:mm:ss.ttt` or `mm:ss.ttt` → milliseconds; NaN when a field is out of range. */
export function timestampMs(t: string): number {
  const [clock, frac = '0'] = t.split(/[.,]/) as [string, string?];
  const parts = clock.split(':').map(Number);
  const [h, m, s] = parts.length === 3 ? (parts as [number, number, number]) : ([0, ...parts] as [number, number, number]);
  if (m > 59 || s > 59) return Number.NaN;
  return ((h * 60 + m) * 60 + s) * 1000 + Number(frac.padEnd(3, '0').slice(0, 3));
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Removes cue markup (`<b>`, `<c.loud>`, `<00:00:01.000>` timestamps, `</v>`) and decodes entities. */
function plain(s: string): string {
  return decodeEntities(s.includes('<') ? s.replace(/<[^<>\n]{0,300}>/g, '') : s).trim();
}

function cue(start: number, end: number, lines: string[]): TranscriptSegment | null {
  let speaker: string | null = null;
  const first = lines[0] ?? '';
  const voice = VOICE.exec(first);
  if (voice) {
    speaker = plain(voice[1]!) || null;
  } else {
    const prefixed = SPEAKER_PREFIX.exec(plain(first));
    if (prefixed) {
      speaker = prefixed[1]!.trim() || null;
      lines = [prefixed[2]!, ...lines.slice(1)];
    }
  }
  const text = lines.map(plain).filter(Boolean).join('\n');
  if (!text) return null;
  return { start_ms: start, end_ms: Math.max(start, end), speaker, text };
}

export function parseVtt(input: string): ParsedTranscript {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const lines = text.split(/\r\n|\r|\n/);
  const signature = /^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? '');
  const segments: TranscriptSegment[] = [];
  const speakers: string[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  let i = signature ? 1 : 0;
  while (i < lines.length) {
    // One block: lines up to the next blank line.
    while (i < lines.length && lines[i]!.trim() === '') i++;
    const start = i;
    while (i < lines.length && lines[i]!.trim() !== '') i++;
    if (i === start) break;
    const block = lines.slice(start, i);
    const head = block[0]!;
    if (/^(NOTE|STYLE|REGION)(\s|$)/.test(head)) continue;
    // The timing line is the first or (after a cue identifier) the second line.
    const at = TIMING.test(head) ? 0 : block.length > 1 && TIMING.test(block[1]!) ? 1 : -1;
    if (at < 0) {
      // The header block may carry metadata lines ("Kind: captions"); elsewhere it is a bad cue.
      if (!(start === 1 && signature)) skipped++;
      continue;
    }
    const m = TIMING.exec(block[at]!)!;
    const s = timestampMs(m[1]!);
    const e = timestampMs(m[2]!);
    const seg = Number.isFinite(s) && Number.isFinite(e) ? cue(s, e, block.slice(at + 1)) : null;
    if (!seg) {
      skipped++;
      continue;
    }
    segments.push(seg);
    if (seg.speaker !== null && !seen.has(seg.speaker)) {
      seen.add(seg.speaker);
      speakers.push(seg.speaker);
    }
  }
  return { segments, speakers, skipped, signature };
}

/** The transcript as plain text: one line per segment, `Speaker: text` when the speaker is known. */
export function transcriptText(segments: readonly TranscriptSegment[]): string {
  return segments.map((s) => (s.speaker ? `${s.speaker}: ${s.text}` : s.text)).join('\n');
}
