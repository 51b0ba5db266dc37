//! Checking and converting voice prompts: an uploaded file (mp3 or wav) is decoded completely
//! with symphonia before it is accepted, mixed to mono, resampled with a band-limited windowed-sinc
//! resampler (rubato) to 8 kHz and written as 16-bit PCM WAV (hound): the format Asterisk
//! plays without transcoding.
//!
//! Decoding streams packet by packet from any `Read + Seek` (the staged upload on flash), so
//! memory stays a few hundred KiB whatever the input size; only the 8 kHz result (16 KB per
//! second) is kept. A file is refused with one of four kinds ([`AudioError`]):
//! - not audio: no mp3 or wav reader recognises it;
//! - truncated or corrupt: the container is recognised but a header, a packet or a frame does
//!   not decode, or fewer samples arrive than the header announces (the Xing/Info/VBRI frame
//!   count of an mp3, the data chunk size of a wav). An mp3 without such a header whose last
//!   frame is cut is indistinguishable from a shorter file: the formats do not say;
//! - empty: decodes to no sample at all (a 0-byte file too);
//! - too long: longer than the configured limit (decoding stops as soon as it is passed).
//!
//! May call: symphonia, rubato, hound. Pure computation on a reader: no paths, no database.

use std::io::{Cursor, Read, Seek};

use rubato::{
    calculate_cutoff, Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_MP3, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// The sample rate Asterisk's `slin` / 8 kHz WAV prompts use.
pub const TARGET_RATE: u32 = 8000;

/// Frames handed to the resampler per call: small enough to keep its buffers tiny.
const RESAMPLER_CHUNK: usize = 1024;
/// Taps of the windowed-sinc filter: with the Blackman-Harris window, a stop band far below
/// 16-bit noise and a pass band to about 3.6 kHz, plenty for speech on a telephone line.
const SINC_LEN: usize = 128;

/// How many samples an mp3 may fall short of its header's count before it counts as cut:
/// one MPEG frame (encoders round the last one differently).
const MP3_FRAME_TOLERANCE: u64 = 1152;

/// The container an upload came in, as detected (never as claimed by its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Mp3,
    Wav,
}

impl Container {
    pub fn as_str(self) -> &'static str {
        match self {
            Container::Mp3 => "mp3",
            Container::Wav => "wav",
        }
    }
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("not an mp3 or wav file")]
    NotAudio,
    #[error("the audio is truncated or corrupt: {0}")]
    Corrupt(String),
    #[error("the audio contains no sound")]
    Empty,
    #[error("the audio is longer than {limit_seconds} s")]
    TooLong { limit_seconds: u32 },
    #[error("cannot read the upload: {0}")]
    Io(#[from] std::io::Error),
}

/// An accepted upload, converted.
#[derive(Clone)]
pub struct Transcoded {
    /// A complete 8 kHz mono 16-bit PCM WAV file.
    pub wav: Vec<u8>,
    pub container: Container,
    /// Length of the converted audio.
    pub duration_ms: u64,
    /// What came in, for the log.
    pub input_rate: u32,
    pub input_channels: usize,
}

impl std::fmt::Debug for Transcoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcoded")
            .field("wav_bytes", &self.wav.len())
            .field("container", &self.container)
            .field("duration_ms", &self.duration_ms)
            .field("input_rate", &self.input_rate)
            .field("input_channels", &self.input_channels)
            .finish()
    }
}

/// Decodes `source` completely and converts it. `extension` (from the upload's file name) is
/// only a hint for the prober; the content decides.
pub fn transcode<R>(
    source: R,
    extension: Option<&str>,
    max_seconds: u32,
) -> Result<Transcoded, AudioError>
where
    R: Read + Seek + Send + Sync + 'static,
{
    transcode_source(
        Box::new(SeekableSource::new(source)?),
        extension,
        max_seconds,
    )
}

/// Same, from a non-seekable reader (the prober then cannot estimate durations).
pub fn transcode_stream<R>(
    source: R,
    extension: Option<&str>,
    max_seconds: u32,
) -> Result<Transcoded, AudioError>
where
    R: Read + Send + Sync + 'static,
{
    transcode_source(
        Box::new(ReadOnlySource::new(source)),
        extension,
        max_seconds,
    )
}

fn transcode_source(
    source: Box<dyn MediaSource>,
    extension: Option<&str>,
    max_seconds: u32,
) -> Result<Transcoded, AudioError> {
    if source.byte_len() == Some(0) {
        return Err(AudioError::Empty);
    }
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = extension {
        hint.with_extension(extension);
    }
    let format_options = FormatOptions {
        // Trim the encoder delay and padding of mp3s so the length is the real one.
        enable_gapless: true,
        ..Default::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &format_options, &MetadataOptions::default())
        .map_err(|err| match err {
            SymphoniaError::Unsupported(_) => AudioError::NotAudio,
            SymphoniaError::IoError(ref io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                AudioError::Corrupt("the header is cut short".into())
            }
            other => AudioError::Corrupt(other.to_string()),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(AudioError::NotAudio)?
        .clone();
    let container = if track.codec_params.codec == CODEC_TYPE_MP3 {
        Container::Mp3
    } else {
        Container::Wav
    };
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions { verify: true })
        .map_err(|err| match err {
            SymphoniaError::Unsupported(what) => {
                AudioError::Corrupt(format!("unsupported encoding: {what}"))
            }
            other => AudioError::Corrupt(other.to_string()),
        })?;
    let input_rate = track
        .codec_params
        .sample_rate
        .filter(|&rate| rate > 0)
        .ok_or_else(|| AudioError::Corrupt("no sample rate".into()))?;
    let announced_frames = track.codec_params.n_frames;
    let max_input_frames = u64::from(max_seconds) * u64::from(input_rate);
    if let Some(announced) = announced_frames {
        // Refuse early, without decoding minutes of audio, when the header already says so.
        // (An estimate from the file size can be a little off: allow a frame.)
        if announced > max_input_frames + MP3_FRAME_TOLERANCE {
            return Err(AudioError::TooLong {
                limit_seconds: max_seconds,
            });
        }
    }

    let mut converter = MonoConverter::new(input_rate)?;
    let mut interleaved: Option<SampleBuffer<f32>> = None;
    let mut input_channels = track.codec_params.channels.map_or(0, |c| c.count());
    let mut decoded_frames: u64 = 0;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(err))
                if err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(SymphoniaError::IoError(err)) => return Err(AudioError::Io(err)),
            Err(other) => return Err(AudioError::Corrupt(other.to_string())),
        };
        if packet.track_id() != track.id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(SymphoniaError::IoError(err))
                if err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                return Err(AudioError::Corrupt("a frame is cut short".into()))
            }
            Err(other) => return Err(AudioError::Corrupt(other.to_string())),
        };
        let spec = *decoded.spec();
        if spec.rate != input_rate {
            return Err(AudioError::Corrupt("the sample rate changes".into()));
        }
        let frames = decoded.frames();
        if frames == 0 {
            continue;
        }
        let channels = spec.channels.count().max(1);
        input_channels = channels;
        let buffer = match &mut interleaved {
            Some(buffer) if buffer.capacity() >= frames * channels => buffer,
            slot => slot.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buffer.copy_interleaved_ref(decoded);
        decoded_frames += frames as u64;
        if decoded_frames > max_input_frames {
            return Err(AudioError::TooLong {
                limit_seconds: max_seconds,
            });
        }
        converter.push_interleaved(&buffer.samples()[..frames * channels], channels)?;
    }
    if decoded_frames == 0 {
        return Err(AudioError::Empty);
    }
    if let Some(announced) = announced_frames {
        let tolerance = match container {
            Container::Mp3 => MP3_FRAME_TOLERANCE,
            Container::Wav => 0,
        };
        if decoded_frames + tolerance < announced {
            return Err(AudioError::Corrupt(format!(
                "{decoded_frames} of the {announced} samples announced by the header"
            )));
        }
    }
    let samples = converter.finish()?;
    let duration_ms = samples.len() as u64 * 1000 / u64::from(TARGET_RATE);
    Ok(Transcoded {
        wav: encode_wav(&samples),
        container,
        duration_ms,
        input_rate,
        input_channels,
    })
}

/// Writes 8 kHz mono 16-bit samples as a WAV file.
pub fn encode_wav(samples: &[i16]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: TARGET_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        let mut writer = hound::WavWriter::new(&mut out, spec).expect("in-memory WAV header");
        let mut samples_writer = writer.get_i16_writer(samples.len() as u32);
        for &sample in samples {
            samples_writer.write_sample(sample);
        }
        samples_writer.flush().expect("in-memory WAV data");
        writer.finalize().expect("in-memory WAV");
    }
    out.into_inner()
}

/// Mixes interleaved frames to mono and resamples them to [`TARGET_RATE`] as they arrive.
struct MonoConverter {
    /// `None` when the input already is at the target rate.
    resampler: Option<SincFixedIn<f32>>,
    /// Mono input waiting for a full resampler chunk.
    pending: Vec<f32>,
    /// Resampled output still to skip: the resampler's delay.
    delay_left: usize,
    out_chunk: Vec<Vec<f32>>,
    output: Vec<i16>,
    input_frames: u64,
    input_rate: u32,
}

impl MonoConverter {
    fn new(input_rate: u32) -> Result<MonoConverter, AudioError> {
        let resampler = if input_rate == TARGET_RATE {
            None
        } else {
            let window = WindowFunction::BlackmanHarris2;
            let parameters = SincInterpolationParameters {
                sinc_len: SINC_LEN,
                f_cutoff: calculate_cutoff(SINC_LEN, window),
                interpolation: SincInterpolationType::Linear,
                oversampling_factor: 256,
                window,
            };
            Some(
                SincFixedIn::<f32>::new(
                    f64::from(TARGET_RATE) / f64::from(input_rate),
                    1.0,
                    parameters,
                    RESAMPLER_CHUNK,
                    1,
                )
                .map_err(|err| AudioError::Corrupt(format!("cannot resample: {err}")))?,
            )
        };
        let (delay_left, out_chunk) = match &resampler {
            Some(r) => (r.output_delay(), vec![vec![0.0; r.output_frames_max()]]),
            None => (0, vec![]),
        };
        Ok(MonoConverter {
            resampler,
            pending: Vec::with_capacity(RESAMPLER_CHUNK),
            delay_left,
            out_chunk,
            output: Vec::new(),
            input_frames: 0,
            input_rate,
        })
    }

    fn push_interleaved(&mut self, samples: &[f32], channels: usize) -> Result<(), AudioError> {
        let scale = 1.0 / channels as f32;
        for frame in samples.chunks_exact(channels) {
            let mono = frame.iter().sum::<f32>() * scale;
            self.input_frames += 1;
            match &self.resampler {
                None => self.output.push(to_i16(mono)),
                Some(resampler) => {
                    self.pending.push(mono);
                    if self.pending.len() == resampler.input_frames_next() {
                        self.run(false)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Resamples what is pending (a full chunk, or at the end whatever is left, padded).
    fn run(&mut self, partial: bool) -> Result<(), AudioError> {
        let Some(resampler) = &mut self.resampler else {
            return Ok(());
        };
        let input = [&self.pending[..]];
        let (_, produced) = if partial {
            // Zeros in, to push out what the resampler still holds.
            let input = (!self.pending.is_empty()).then_some(&input[..]);
            resampler.process_partial_into_buffer(input, &mut self.out_chunk, None)
        } else {
            resampler.process_into_buffer(&input, &mut self.out_chunk, None)
        }
        .map_err(|err| AudioError::Corrupt(format!("cannot resample: {err}")))?;
        self.pending.clear();
        let fresh = &self.out_chunk[0][..produced];
        let skip = self.delay_left.min(fresh.len());
        self.delay_left -= skip;
        self.output
            .extend(fresh[skip..].iter().map(|&sample| to_i16(sample)));
        Ok(())
    }

    /// Flushes the resampler and returns exactly `input × 8000 / input_rate` samples.
    fn finish(mut self) -> Result<Vec<i16>, AudioError> {
        let expected = (self.input_frames * u64::from(TARGET_RATE))
            .div_ceil(u64::from(self.input_rate)) as usize;
        if self.resampler.is_some() {
            if !self.pending.is_empty() {
                self.run(true)?;
            }
            // The resampler holds back its delay's worth: push zeros until it is out.
            let mut guard = 0;
            while self.output.len() < expected && guard < 64 {
                self.run(true)?;
                guard += 1;
            }
        }
        self.output.truncate(expected);
        Ok(self.output)
    }
}

fn to_i16(sample: f32) -> i16 {
    (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16
}

/// A `Read + Seek` as a symphonia media source (the length makes mp3 duration estimates and
/// the wav size checks possible).
struct SeekableSource<R> {
    inner: R,
    len: u64,
}

impl<R: Seek> SeekableSource<R> {
    fn new(mut inner: R) -> std::io::Result<SeekableSource<R>> {
        let len = inner.seek(std::io::SeekFrom::End(0))?;
        inner.seek(std::io::SeekFrom::Start(0))?;
        Ok(SeekableSource { inner, len })
    }
}

impl<R: Read> Read for SeekableSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for SeekableSource<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for SeekableSource<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// The facts of a WAV file this module wrote (or any PCM WAV): for checks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavFacts {
    pub sample_rate: u32,
    pub channels: u16,
    pub bits_per_sample: u16,
    pub frames: u32,
}

/// Reads a WAV header.
pub fn wav_facts(bytes: &[u8]) -> Result<WavFacts, AudioError> {
    let reader = hound::WavReader::new(Cursor::new(bytes))
        .map_err(|err| AudioError::Corrupt(err.to_string()))?;
    let spec = reader.spec();
    Ok(WavFacts {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        bits_per_sample: spec.bits_per_sample,
        frames: reader.duration(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::TAU;
    use std::path::PathBuf;

    const LIMIT: u32 = 60;

    fn fixture(name: &str) -> Vec<u8> {
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/prompts", name]
            .iter()
            .collect();
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn run(bytes: Vec<u8>, limit: u32) -> Result<Transcoded, AudioError> {
        transcode(Cursor::new(bytes), None, limit)
    }

    /// A 16-bit PCM WAV of `channels` identical channels, each the sum of the given sines.
    fn wav(rate: u32, channels: u16, seconds: f32, tones: &[f32]) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
        let frames = (rate as f32 * seconds) as u32;
        for n in 0..frames {
            let t = n as f32 / rate as f32;
            let value: f32 = tones.iter().map(|f| (TAU * f * t).sin()).sum::<f32>()
                / tones.len().max(1) as f32
                * 0.5;
            for _ in 0..channels {
                writer.write_sample((value * 32767.0) as i16).unwrap();
            }
        }
        writer.finalize().unwrap();
        out.into_inner()
    }

    fn samples_of(wav: &[u8]) -> Vec<i16> {
        hound::WavReader::new(Cursor::new(wav))
            .unwrap()
            .into_samples::<i16>()
            .map(Result::unwrap)
            .collect()
    }

    fn rms(samples: &[i16]) -> f64 {
        (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
    }

    fn assert_target_format(wav: &[u8]) -> WavFacts {
        let facts = wav_facts(wav).unwrap();
        assert_eq!(facts.sample_rate, 8000);
        assert_eq!(facts.channels, 1);
        assert_eq!(facts.bits_per_sample, 16);
        facts
    }

    #[test]
    fn an_mp3_becomes_8khz_mono_16bit_wav_of_the_same_length() {
        let out = run(fixture("tone-2s-44k-stereo.mp3"), LIMIT).unwrap();
        assert_eq!(out.container, Container::Mp3);
        assert_eq!((out.input_rate, out.input_channels), (44100, 2));
        let facts = assert_target_format(&out.wav);
        // Gapless trimming makes the length the encoded one, 2 s.
        assert!((1990..=2010).contains(&out.duration_ms), "{out:?}");
        assert_eq!(u64::from(facts.frames) * 1000 / 8000, out.duration_ms);
        assert!(rms(&samples_of(&out.wav)) > 3000.0, "the tone survives");
    }

    #[test]
    fn resampling_is_band_limited_not_sample_dropping() {
        // 1 kHz passes; 6 kHz is above the new Nyquist frequency (4 kHz) and must vanish
        // instead of folding back to 2 kHz as decimation by dropping samples would do.
        let pass = run(wav(44100, 2, 1.0, &[1000.0]), LIMIT).unwrap();
        assert_eq!(pass.container, Container::Wav);
        assert_eq!(pass.duration_ms, 1000);
        let facts = assert_target_format(&pass.wav);
        assert_eq!(facts.frames, 8000);
        let kept = samples_of(&pass.wav);
        // A 0.5 full-scale sine has an RMS of 0.5/√2 of full scale.
        let expected = 0.5 / 2f64.sqrt() * 32767.0;
        let steady = &kept[400..7600];
        assert!(
            (rms(steady) - expected).abs() < expected * 0.05,
            "{}",
            rms(steady)
        );
        // And it is still a 1 kHz sine: 2 zero crossings a period.
        let crossings = steady
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        assert!((1790..=1810).contains(&crossings), "{crossings}");

        let stop = run(wav(44100, 1, 1.0, &[6000.0]), LIMIT).unwrap();
        let gone = samples_of(&stop.wav);
        assert!(
            rms(&gone[400..7600]) < expected * 0.01,
            "{}",
            rms(&gone[400..7600])
        );
    }

    #[test]
    fn stereo_is_mixed_to_mono() {
        // Left and right in opposite phase cancel out; identical channels keep their level.
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
        for n in 0..8000 {
            let v = ((TAU * 440.0 * n as f32 / 8000.0).sin() * 16000.0) as i16;
            writer.write_sample(v).unwrap();
            writer.write_sample(-v).unwrap();
        }
        writer.finalize().unwrap();
        let mixed = run(out.into_inner(), LIMIT).unwrap();
        assert!(rms(&samples_of(&mixed.wav)) < 1.0);
    }

    #[test]
    fn an_8khz_mono_wav_passes_through_unchanged() {
        let input = wav(8000, 1, 0.5, &[440.0]);
        let out = run(input.clone(), LIMIT).unwrap();
        assert_eq!(samples_of(&out.wav), samples_of(&input));
        assert_eq!(out.duration_ms, 500);
    }

    #[test]
    fn compressed_wav_encodings_are_decoded() {
        let alaw = run(fixture("alaw-1s-8k-mono.wav"), LIMIT).unwrap();
        assert_eq!(alaw.container, Container::Wav);
        assert_eq!(alaw.duration_ms, 1000);
        assert!(rms(&samples_of(&alaw.wav)) > 5000.0);
        let adpcm = run(fixture("ima-adpcm-1s-16k-mono.wav"), LIMIT).unwrap();
        assert_eq!(adpcm.input_rate, 16000);
        // IMA ADPCM comes in whole blocks: the last one is padded.
        assert!((1000..=1040).contains(&adpcm.duration_ms), "{adpcm:?}");
        assert_target_format(&adpcm.wav);
        assert!(rms(&samples_of(&adpcm.wav)) > 5000.0);
    }

    #[test]
    fn a_truncated_mp3_is_refused() {
        let err = run(fixture("truncated.mp3"), LIMIT).unwrap_err();
        assert!(matches!(err, AudioError::Corrupt(_)), "{err}");
    }

    #[test]
    fn a_corrupt_mp3_is_refused() {
        let err = run(fixture("corrupt.mp3"), LIMIT).unwrap_err();
        assert!(matches!(err, AudioError::Corrupt(_)), "{err}");
    }

    #[test]
    fn a_truncated_wav_is_refused() {
        let mut bytes = wav(44100, 2, 1.0, &[440.0]);
        bytes.truncate(bytes.len() / 2);
        let err = run(bytes, LIMIT).unwrap_err();
        assert!(matches!(err, AudioError::Corrupt(_)), "{err}");
        // A header cut short too.
        let err = run(wav(8000, 1, 1.0, &[440.0])[..30].to_vec(), LIMIT).unwrap_err();
        assert!(matches!(err, AudioError::Corrupt(_)), "{err}");
    }

    #[test]
    fn what_is_not_audio_is_refused() {
        let text = "这不是音频文件 — this is not audio\n"
            .repeat(200)
            .into_bytes();
        assert!(matches!(run(text, LIMIT), Err(AudioError::NotAudio)));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".repeat(64);
        assert!(matches!(run(png, LIMIT), Err(AudioError::NotAudio)));
    }

    #[test]
    fn empty_inputs_are_refused_as_empty() {
        assert!(matches!(run(vec![], LIMIT), Err(AudioError::Empty)));
        let no_samples = wav(8000, 1, 0.0, &[]);
        assert!(matches!(run(no_samples, LIMIT), Err(AudioError::Empty)));
    }

    #[test]
    fn audio_over_the_limit_is_refused() {
        let err = run(wav(16000, 1, 3.0, &[440.0]), 2).unwrap_err();
        assert!(
            matches!(err, AudioError::TooLong { limit_seconds: 2 }),
            "{err}"
        );
        let err = run(fixture("tone-2s-44k-stereo.mp3"), 1).unwrap_err();
        assert!(
            matches!(err, AudioError::TooLong { limit_seconds: 1 }),
            "{err}"
        );
        // Exactly at the limit is fine.
        assert!(run(wav(16000, 1, 2.0, &[440.0]), 2).is_ok());
        // Without a seekable source (no size-based estimate), decoding stops at the limit.
        let err = transcode_stream(Cursor::new(wav(8000, 1, 3.0, &[440.0])), None, 2).unwrap_err();
        assert!(matches!(err, AudioError::TooLong { .. }), "{err}");
    }
}
