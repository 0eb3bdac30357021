import { describe, expect, it } from 'vitest';
import { longVtt } from '../../../test/zoom/fixtures.js';
import { parseVtt, timestampMs, transcriptText } from './vtt.js';

const ZOOM = `WEBVTT

1
00:00:01.000 --> 00:00:04.500
Ada Lovelace: Hello everyone.

2
00:00:05.120 --> 00:00:09.000
Charles Babbage: Thanks, Ada. Let's start.
`;

describe('WebVTT parsing', () => {
  it('reads Zoom cues: times in ms, speaker from the prefix, text without it', () => {
    const t = parseVtt(ZOOM);
    expect(t.signature).toBe(true);
    expect(t.segments).toEqual([
      { start_ms: 1000, end_ms: 4500, speaker: 'Ada Lovelace', text: 'Hello everyone.' },
      { start_ms: 5120, end_ms: 9000, speaker: 'Charles Babbage', text: "Thanks, Ada. Let's start." },
    ]);
    expect(t.speakers).toEqual(['Ada Lovelace', 'Charles Babbage']);
    expect(transcriptText(t.segments)).toBe("Ada Lovelace: Hello everyone.\nCharles Babbage: Thanks, Ada. Let's start.");
  });

  it('no speakers, multi-line cues, no cue numbers, cue settings, NOTE blocks', () => {
    const t = parseVtt('WEBVTT - Zoom\nKind: captions\n\nNOTE a comment\nspanning lines\n\n00:01.000 --> 00:02.000 align:start\nfirst line\nsecond line\n\nid-2\n00:02.000 --> 00:03.000\n<v Grace Hopper>Voice tag &amp; markup <b>bold</b></v>\n');
    expect(t.segments).toEqual([
      { start_ms: 1000, end_ms: 2000, speaker: null, text: 'first line\nsecond line' },
      { start_ms: 2000, end_ms: 3000, speaker: 'Grace Hopper', text: 'Voice tag & markup bold' },
    ]);
    expect(t.skipped).toBe(0);
  });

  it('BOM and CRLF (and lone CR) line ends', () => {
    const crlf = `\uFEFF${ZOOM.replace(/\n/g, '\r\n')}`;
    expect(parseVtt(crlf).segments).toEqual(parseVtt(ZOOM).segments);
    expect(parseVtt(ZOOM.replace(/\n/g, '\r')).segments).toHaveLength(2);
  });

  it('a 3-hour meeting: hours past 2, every cue, in order', () => {
    const t = parseVtt(longVtt(180));
    expect(t.segments).toHaveLength(2700);
    expect(t.segments.at(-1)).toMatchObject({ start_ms: 10_796_000, end_ms: 10_799_500, speaker: 'Grace Hopper' });
    expect(t.speakers).toHaveLength(3);
    expect(timestampMs('123:00:00.000')).toBe(123 * 3_600_000);
  });

  it('hostile input is skipped and counted, never thrown', () => {
    const inputs = [
      '',
      '\uFEFF',
      'not a vtt at all',
      'WEBVTT\n\n99:99:99.999 --> 00:00:01.000\nbad minutes\n',
      'WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nend before start\n',
      'WEBVTT\n\n00:00:01.000 --> \n',
      `WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n${'<'.repeat(100_000)}\n`,
      `WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n${':'.repeat(100_000)} x\n`,
      `WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n&#xFFFFFFF; &#0; &bogus;\n`,
      '\u0000\u0001WEBVTT\n\n\u0000',
    ];
    for (const input of inputs) expect(() => parseVtt(input)).not.toThrow();
    expect(parseVtt('not a vtt at all')).toMatchObject({ signature: false, segments: [], skipped: 1 });
    expect(parseVtt(inputs[3]!)).toMatchObject({ segments: [], skipped: 1 });
    expect(parseVtt(inputs[4]!).segments[0]).toMatchObject({ start_ms: 5000, end_ms: 5000 });
    expect(parseVtt(inputs[8]!).segments[0]!.text).toBe('&#xFFFFFFF; &#0; &bogus;');
  });

  it('a 2 MB cue of repeated prefixes (a backtracking trap for naive patterns) is read once', () => {
    const t = parseVtt(`WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n${'a: '.repeat(700_000)}\n`);
    expect(t.segments[0]!.speaker).toBe('a');
    expect(t.segments[0]!.text.length).toBeGreaterThan(2_000_000);
  });
});
