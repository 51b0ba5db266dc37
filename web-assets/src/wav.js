// Audio made in the browser for 语音管理 (manual §9.1.2): the recording is captured as PCM
// with Web Audio, resampled to 8 kHz by an OfflineAudioContext (the browser's own
// band-limited resampler, not sample dropping), mixed to mono, and encoded here as a 16-bit
// PCM WAV — the format Asterisk plays, so the daemon never needs a webm/opus decoder. The
// upload then goes through the same checks as any file.

export const TARGET_RATE = 8000;

/** Joins captured chunks (Float32Array[]) into one. */
export function concat(chunks) {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Float32Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Mono samples at `rate` → mono samples at 8 kHz. */
export async function resampleTo8k(samples, rate) {
  if (rate === TARGET_RATE) return samples;
  const frames = Math.max(1, Math.ceil((samples.length * TARGET_RATE) / rate));
  const offline = new OfflineAudioContext(1, frames, TARGET_RATE);
  const buffer = offline.createBuffer(1, samples.length, rate);
  buffer.copyToChannel(samples, 0);
  const source = offline.createBufferSource();
  source.buffer = buffer;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  return rendered.getChannelData(0);
}

/** Mono float samples (−1…1) at 8 kHz → a WAV Blob (RIFF, PCM, 16-bit, mono). */
export function encodeWav(samples, rate = TARGET_RATE) {
  const dataBytes = samples.length * 2;
  const view = new DataView(new ArrayBuffer(44 + dataBytes));
  const ascii = (at, s) => {
    for (let i = 0; i < s.length; i += 1) view.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i += 1) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), true);
  }
  return new Blob([view.buffer], { type: 'audio/wav' });
}

/**
 * Records the microphone until `stop()`: → { stop(): Promise<{ blob, seconds }>, cancel() }.
 * Throws the browser's error when the microphone cannot be opened (denied, none).
 */
export async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
  });
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  // ScriptProcessor: deprecated but everywhere, and it needs no worklet module (the
  // console's CSP allows scripts from 'self' only, and the app is one bundle).
  const processor = context.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  processor.onaudioprocess = (e) => {
    const input = e.inputBuffer;
    const mono = new Float32Array(input.length);
    for (let ch = 0; ch < input.numberOfChannels; ch += 1) {
      const data = input.getChannelData(ch);
      for (let i = 0; i < data.length; i += 1) mono[i] += data[i] / input.numberOfChannels;
    }
    chunks.push(mono);
  };
  source.connect(processor);
  // A processor only runs while connected to the output; it writes silence there.
  processor.connect(context.destination);
  const rate = context.sampleRate;

  function release() {
    processor.onaudioprocess = null;
    try {
      source.disconnect();
      processor.disconnect();
    } catch {
      // already disconnected
    }
    for (const track of stream.getTracks()) track.stop();
    context.close().catch(() => {});
  }

  return {
    async stop() {
      release();
      const samples = await resampleTo8k(concat(chunks), rate);
      return { blob: encodeWav(samples), seconds: samples.length / TARGET_RATE };
    },
    cancel: release,
  };
}
