/** Deterministic audio answers: synthesised speech bytes and transcripts in every format. */
import type { Reply } from "./reply.ts";

export const SPEECH_CONTENT_TYPES = {
  mp3: "audio/mpeg",
  opus: "audio/opus",
  aac: "audio/aac",
  flac: "audio/flac",
  wav: "audio/wav",
  pcm: "audio/pcm",
} as const;

export type SpeechFormat = keyof typeof SPEECH_CONTENT_TYPES;

// Each format opens with its real magic bytes so sniffing clients recognise it.
const SPEECH_MAGIC: Record<SpeechFormat, Buffer> = {
  mp3: Buffer.from("ID3\x04\x00\x00\x00\x00\x00\x00", "latin1"),
  opus: Buffer.from("OggS\x00\x02", "latin1"),
  aac: Buffer.from([0xff, 0xf1, 0x50, 0x80]),
  flac: Buffer.from("fLaC", "latin1"),
  wav: Buffer.from("RIFF\x00\x00\x00\x00WAVEfmt ", "latin1"),
  pcm: Buffer.alloc(0),
};

/** Bytes of audio per byte of input text: long inputs give long answers. */
export const SPEECH_BYTES_PER_INPUT_BYTE = 64;
const SPEECH_CHUNKS = 4;

export function isSpeechFormat(value: string): value is SpeechFormat {
  return Object.hasOwn(SPEECH_CONTENT_TYPES, value);
}

/** Format magic followed by the input's bytes repeated, in a size proportional to the input. */
export function speechAudio(input: string, format: SpeechFormat): Buffer {
  const text = Buffer.from(input);
  const body = Buffer.alloc(text.length * SPEECH_BYTES_PER_INPUT_BYTE);
  for (let offset = 0; offset < body.length; offset += text.length) text.copy(body, offset);
  return Buffer.concat([SPEECH_MAGIC[format], body]);
}

export function speechReply(input: string, format: SpeechFormat): Reply {
  const audio = speechAudio(input, format);
  const size = Math.ceil(audio.length / SPEECH_CHUNKS);
  const chunks = Array.from({ length: SPEECH_CHUNKS }, (_, i) =>
    audio.subarray(i * size, (i + 1) * size),
  ).filter((c) => c.length > 0);
  return { kind: "binary", contentType: SPEECH_CONTENT_TYPES[format], chunks };
}

export const TRANSCRIPT_FORMATS = ["json", "text", "srt", "verbose_json", "vtt"] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

export function isTranscriptFormat(value: string): value is TranscriptFormat {
  return (TRANSCRIPT_FORMATS as readonly string[]).includes(value);
}

/** What the emulator "heard" in an uploaded audio file. */
export interface HeardAudio {
  task: "transcribe" | "translate";
  filename: string;
  size: number;
  /** ISO-639-1 code from the request, if any. */
  language?: string;
  wordTimestamps: boolean;
}

const LANGUAGE_NAMES: Record<string, string> = {
  de: "german",
  en: "english",
  es: "spanish",
  fr: "french",
  it: "italian",
  ja: "japanese",
  nl: "dutch",
  pt: "portuguese",
  zh: "chinese",
};

export function heardText(audio: HeardAudio): string {
  return `The emulator heard ${audio.size} bytes of ${audio.filename}.`;
}

/** Pretend the file is 16 kHz 16-bit mono PCM. */
export function audioDuration(size: number): number {
  return Math.max(0.1, Math.round((size / 32_000) * 100) / 100);
}

function timestamp(seconds: number, fractionSeparator: "," | "."): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}${fractionSeparator}${pad(ms % 1000, 3)}`;
}

function verboseTranscript(audio: HeardAudio, text: string, duration: number) {
  const words = text.split(" ");
  const language =
    audio.task === "translate"
      ? "english"
      : (LANGUAGE_NAMES[audio.language ?? "en"] ?? audio.language);
  return {
    task: audio.task,
    language,
    duration,
    text,
    segments: [
      {
        id: 0,
        seek: 0,
        start: 0,
        end: duration,
        text,
        tokens: words.map((_, i) => 50_364 + i),
        temperature: 0,
        avg_logprob: -0.25,
        compression_ratio: 1,
        no_speech_prob: 0.01,
      },
    ],
    ...(audio.wordTimestamps
      ? {
          words: words.map((word, i) => ({
            word,
            start: Math.round(((duration * i) / words.length) * 100) / 100,
            end: Math.round(((duration * (i + 1)) / words.length) * 100) / 100,
          })),
        }
      : {}),
  };
}

export function transcriptReply(audio: HeardAudio, format: TranscriptFormat): Reply {
  const text = heardText(audio);
  const duration = audioDuration(audio.size);
  const cue = (separator: "," | ".") =>
    `${timestamp(0, separator)} --> ${timestamp(duration, separator)}`;
  switch (format) {
    case "json":
      return { kind: "json", status: 200, body: { text } };
    case "verbose_json":
      return { kind: "json", status: 200, body: verboseTranscript(audio, text, duration) };
    case "text":
      return { kind: "text", contentType: "text/plain; charset=utf-8", body: `${text}\n` };
    case "srt":
      return {
        kind: "text",
        contentType: "text/plain; charset=utf-8",
        body: `1\n${cue(",")}\n${text}\n\n`,
      };
    case "vtt":
      return {
        kind: "text",
        contentType: "text/vtt; charset=utf-8",
        body: `WEBVTT\n\n${cue(".")}\n${text}\n\n`,
      };
  }
}
