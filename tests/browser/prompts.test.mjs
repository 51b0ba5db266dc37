// Journey: 高级设置 → 语音管理 (manual §9.1) on the demo daemon.
//
// The administrator uploads an mp3 (the file chooser; the progress bar; the name prefilled
// from the file and changed to 欢迎语) and sees it listed with 格式 MP3, then fetches its
// audio and checks the WAV header says 8000 Hz, mono, 16-bit: the daemon converted it. A
// file that is not audio, dropped onto the drop area, is refused with the server's message
// and the list is unchanged. 录音: Chromium's fake microphone (a tone) is recorded for about
// two seconds, played back, named and uploaded; it is listed as 录音, 8 kHz mono, about 2 s
// long. TTS: a Chinese sentence is converted by espeak-ng on the box, played, offered for
// download, named and uploaded; it is listed as TTS. Finally the recording is deleted
// through the confirmation dialog. (Choosing start/end prompts and the 10 s rule live on
// the call-flow page.) Screenshots go to target/browser-artifacts/prompts-*.png.
//
// Run from the repository root:  node --test tests/browser/

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  FAKE_MEDIA_ARGS,
  REPO_ROOT,
  cleanArtifacts,
  expectAttr,
  expectHash,
  expectText,
  openBrowser,
  screenshot,
  sleep,
  startDaemon,
  stepper,
} from './lib/harness.mjs';
import { loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'prompts';
const MP3 = path.join(REPO_ROOT, 'tests/fixtures/prompts/tone-2s-44k-stereo.mp3');

let daemon;
let session;

before(async () => {
  await cleanArtifacts(JOURNEY);
  daemon = await startDaemon(JOURNEY);
  session = await openBrowser({ args: FAKE_MEDIA_ARGS });
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
});

/** The WAV header of a prompt's audio, read inside the page (its session cookie). */
function wavHeader(page, name) {
  return page.evaluate(async (n) => {
    const r = await fetch(`/api/v1/prompts/${encodeURIComponent(n)}/audio`);
    const b = new DataView(await r.arrayBuffer());
    const tag = (at) => String.fromCharCode(b.getUint8(at), b.getUint8(at + 1), b.getUint8(at + 2), b.getUint8(at + 3));
    return {
      status: r.status,
      type: r.headers.get('content-type'),
      riff: tag(0),
      wave: tag(8),
      channels: b.getUint16(22, true),
      rate: b.getUint32(24, true),
      bits: b.getUint16(34, true),
      dataBytes: b.getUint32(40, true),
    };
  }, name);
}

test('语音管理 journey: upload, refusal, browser recording, TTS, delete (manual §9.1)', { timeout: 300_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const rows = page.getByTestId('prompt-row');
  const row = (name) => page.locator(`[data-testid="prompt-row"][data-name="${name}"]`);

  await step('log in and open 高级设置 → 语音管理', async () => {
    await loginAndChangePassword(page, daemon.url);
    await page.goto(`${daemon.url}#/advanced/prompts`);
    await expectHash(page, '#/advanced/prompts');
    await page.getByTestId('prompts-page').waitFor({ state: 'visible' });
    await expectText(page.getByTestId('prompts-empty'), '还没有语音文件。');
    await screenshot(page, `${JOURNEY}-01-empty.png`);
  });

  await step('upload an mp3: listed as MP3, converted to 8 kHz mono 16-bit WAV', async () => {
    await page.getByTestId('prompts-file').setInputFiles(MP3);
    await expectText(page.getByTestId('prompts-chosen'), /^已选择：tone-2s-44k-stereo\.mp3/);
    assert.equal(await page.locator('#prompts-name').inputValue(), 'tone-2s-44k-stereo');
    await page.locator('#prompts-name').fill('欢迎语');
    await page.getByTestId('prompts-upload').click();
    await expectText(page.getByTestId('prompts-ok'), '已上传“欢迎语”（prompt.wav）。');
    await expectText(row('prompt').getByTestId('prompt-display'), '欢迎语');
    await expectText(row('prompt').getByTestId('prompt-file'), 'prompt.wav');
    await expectText(row('prompt').getByTestId('prompt-format'), 'MP3');
    await expectText(row('prompt').getByTestId('prompt-duration'), '2.0 秒');
    const header = await wavHeader(page, 'prompt');
    assert.deepEqual(
      { status: header.status, type: header.type, riff: header.riff, wave: header.wave, rate: header.rate, channels: header.channels, bits: header.bits },
      { status: 200, type: 'audio/wav', riff: 'RIFF', wave: 'WAVE', rate: 8000, channels: 1, bits: 16 },
    );
    assert.ok(Math.abs(header.dataBytes - 32000) <= 160, `2 s at 8 kHz 16-bit: ${header.dataBytes} bytes`);
    // 播放 starts the player (and the button turns into 暂停).
    await row('prompt').getByTestId('prompt-play').click();
    await expectAttr(row('prompt').getByTestId('prompt-play'), 'aria-pressed', 'true');
    await row('prompt').getByTestId('prompt-play').click();
    await expectAttr(row('prompt').getByTestId('prompt-play'), 'aria-pressed', 'false');
    await screenshot(page, `${JOURNEY}-02-mp3-listed.png`);
  });

  await step('a file that is not audio, dropped on the drop area, is refused and nothing changes', async () => {
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['这不是音频文件\n'.repeat(50)], 'notes.mp3', { type: 'audio/mpeg' }));
      return dt;
    });
    await page.getByTestId('prompts-drop').dispatchEvent('drop', { dataTransfer });
    await expectText(page.getByTestId('prompts-chosen'), /^已选择：notes\.mp3/);
    await page.locator('#prompts-name').fill('不是音频');
    await page.getByTestId('prompts-upload').click();
    await expectText(page.getByTestId('prompts-error'), '该文件不是 MP3 或 WAV 音频，未保存。');
    assert.equal(await rows.count(), 1);
    await screenshot(page, `${JOURNEY}-03-not-audio.png`);
  });

  await step('录音: record the fake microphone for ~2 s, play it, upload it', async () => {
    await page.getByTestId('rec-start').click();
    await expectAttr(page.getByTestId('rec-status'), 'data-state', 'recording');
    await sleep(2200);
    await page.getByTestId('rec-stop').click();
    await expectAttr(page.getByTestId('rec-status'), 'data-state', 'recorded');
    const recorded = await expectText(page.getByTestId('rec-status'), /^已录制 \d+\.\d 秒$/);
    const seconds = Number(recorded.match(/([\d.]+)/)[1]);
    assert.ok(seconds >= 1.5 && seconds <= 4, `recorded ${seconds} s`);
    await page.getByTestId('rec-play').click();
    await expectAttr(page.getByTestId('rec-play'), 'aria-pressed', 'true');
    await page.getByTestId('rec-play').click();
    await page.locator('#rec-name').fill('录音测试');
    await page.getByTestId('rec-upload').click();
    await expectText(page.getByTestId('rec-ok'), '已上传“录音测试”（prompt-2.wav）。');
    await expectText(row('prompt-2').getByTestId('prompt-format'), '录音');
    const header = await wavHeader(page, 'prompt-2');
    assert.deepEqual([header.rate, header.channels, header.bits], [8000, 1, 16]);
    const listed = (header.dataBytes / 16000).toFixed(1);
    assert.ok(Math.abs(Number(listed) - seconds) < 0.2, `listed ${listed} s, recorded ${seconds} s`);
    // The fake microphone's tone made it into the file: not silence.
    const loud = await page.evaluate(async () => {
      const r = await fetch('/api/v1/prompts/prompt-2/audio');
      const pcm = new Int16Array((await r.arrayBuffer()).slice(44));
      return pcm.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    });
    assert.ok(loud > 1000, `peak sample ${loud}`);
    await screenshot(page, `${JOURNEY}-04-recorded.png`);
  });

  await step('TTS: a Chinese sentence is spoken on the box, played, downloadable, uploaded', async () => {
    await page.getByTestId('tts-text').fill('您好，欢迎致电客服中心。');
    await expectText(page.getByTestId('tts-count'), '12 / 300 字');
    await page.getByTestId('tts-convert').click();
    await expectText(page.getByTestId('tts-status'), /^已生成 \d+\.\d 秒$/, { timeout: 30_000 });
    const href = await page.getByTestId('tts-download').getAttribute('href');
    assert.match(href, /^blob:/);
    assert.equal(await page.getByTestId('tts-download').getAttribute('download'), 'tts.wav');
    await page.getByTestId('tts-play').click();
    await expectAttr(page.getByTestId('tts-play'), 'aria-pressed', 'true');
    await page.getByTestId('tts-play').click();
    await page.locator('#tts-name').fill('TTS 欢迎');
    await page.getByTestId('tts-upload').click();
    await expectText(page.getByTestId('tts-ok'), '已上传“TTS 欢迎”（tts.wav）。');
    await expectText(row('tts').getByTestId('prompt-format'), 'TTS');
    const header = await wavHeader(page, 'tts');
    assert.deepEqual([header.rate, header.channels, header.bits], [8000, 1, 16]);
    assert.equal(await rows.count(), 3);
    await screenshot(page, `${JOURNEY}-05-tts.png`);
  });

  await step('empty TTS text is refused with the server message', async () => {
    await page.getByTestId('tts-text').fill('   ');
    await page.getByTestId('tts-convert').click();
    await expectText(page.getByTestId('tts-error'), '请输入要转换的文字。');
  });

  await step('delete the recording through the confirmation dialog', async () => {
    await row('prompt-2').getByTestId('prompt-delete').click();
    await expectText(page.getByTestId('prompt-delete-dialog-message'), '将删除语音“录音测试”（prompt-2.wav）。此操作不能撤销。');
    await page.getByTestId('prompt-delete-dialog-ok').click();
    await expectText(page.getByTestId('prompts-notice'), '已删除语音“录音测试”。');
    await row('prompt-2').waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 2);
    await screenshot(page, `${JOURNEY}-06-deleted.png`);
  });

  await step('no page errors, CSP violations or requests off loopback', async () => {
    assert.deepEqual(log.pageErrors, []);
    assert.deepEqual(log.cspViolations, []);
    assert.deepEqual(log.blocked, []);
    assert.deepEqual(log.consoleErrors, []);
  });
});
