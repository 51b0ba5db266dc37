// Journey: manual §11 管理员手册 and §12 PBX手册.
//
// 管理员手册 shows the console's own manual (static HTML fetched and shown in the page) in
// Chinese, then in English after the language switch; its 下载 link points to the .html
// document, which is served as HTML. PBX手册 on the demo, which has no PBX manual yet:
// the server's "not installed" message and the link to the PBX UI on port 9999; then a
// PDF is put where the demo looks for it (<data-dir>/pbx-manual.pdf), and after a reload
// 查看 and 下载 are offered and the URL answers application/pdf.
//
// Run from the repository root:  node --test tests/browser/

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  cleanArtifacts,
  expectAttr,
  expectHash,
  expectText,
  openBrowser,
  screenshot,
  startDaemon,
  stepper,
} from './lib/harness.mjs';
import { loginAndChangePassword } from './lib/login.mjs';

const JOURNEY = 'manuals';

let daemon;
let session;

before(async () => {
  await cleanArtifacts(JOURNEY);
  daemon = await startDaemon(JOURNEY);
  session = await openBrowser();
});

after(async () => {
  if (session) await session.browser.close();
  if (daemon) await daemon.stop();
});

/** A tiny but well-formed one-page PDF. */
function tinyPdf() {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return body;
}

test('管理员手册 and PBX手册 (manual §11, §12)', { timeout: 180_000 }, async (t) => {
  const { page, log } = session;
  const step = stepper(t, page, JOURNEY);
  const byId = (id) => page.getByTestId(id);

  await step('log in; 管理员手册 shows the manual in Chinese', async () => {
    await loginAndChangePassword(page, daemon.url);
    await byId('nav-manualAdmin').click();
    await expectHash(page, '#/manual/admin');
    await expectText(byId('page-title'), '管理员手册');
    await expectAttr(byId('manual-content'), 'data-lang', 'zh');
    await expectText(byId('manual-content').locator('h1'), 'CooCenter 呼叫中心 管理员手册');
    const text = await byId('manual-content').innerText();
    for (const words of ['登录与证书', '管理员账户', '监控显示', '坐席管理', '队列管理', '操作日志', '坐席页面', '控制台访问', '固件升级', 'PBX设置', '9999', '录音列表', '客户留言', '高级设置', '语音管理', '其他设置', '自定义表']) {
      assert.ok(text.includes(words), `the Chinese manual mentions ${words}`);
    }
    // Rendered inside the console (no frame), with the console's styles.
    assert.equal(await page.locator('iframe').count(), 0);
    const download = byId('manual-download');
    assert.equal(await download.getAttribute('href'), '/manual/admin-manual.zh.html');
    assert.equal(await download.getAttribute('download'), 'admin-manual.zh.html');
    await expectText(download, '下载');
    await screenshot(page, `${JOURNEY}-admin-zh.png`);
  });

  await step('English: the manual switches language, the download link too', async () => {
    await byId('lang-en').click();
    await expectText(byId('page-title'), 'Admin manual');
    await expectAttr(byId('manual-content'), 'data-lang', 'en');
    await expectText(byId('manual-content').locator('h1'), 'CooCenter call center — administrator manual');
    const text = await byId('manual-content').innerText();
    assert.ok(!/[\u3400-\u9fff]{4,}/.test(text.replace(/午休, 培训, 会议, 小休, 整理工单/, '')), 'no Chinese prose in the English manual');
    const download = byId('manual-download');
    await expectText(download, 'Download');
    assert.equal(await download.getAttribute('href'), '/manual/admin-manual.en.html');
    await screenshot(page, `${JOURNEY}-admin-en.png`);
  });

  await step('the downloadable documents are HTML with their stylesheet, no scripts', async () => {
    for (const lang of ['zh', 'en']) {
      const res = await page.request.get(new URL(`/manual/admin-manual.${lang}.html`, daemon.url).href);
      assert.equal(res.status(), 200);
      assert.match(res.headers()['content-type'], /^text\/html/);
      const body = await res.text();
      assert.match(body, /^<!DOCTYPE html>/i);
      assert.match(body, /<link rel="stylesheet" href="manual.css">/);
      assert.ok(!/<script|\sstyle=/i.test(body), 'no script, no inline style');
    }
    const css = await page.request.get(new URL('/manual/manual.css', daemon.url).href);
    assert.equal(css.status(), 200);
    assert.match(css.headers()['content-type'], /^text\/css/);
    // Clicking 下载 saves the document.
    const [download] = await Promise.all([page.waitForEvent('download'), byId('manual-download').click()]);
    assert.equal(download.suggestedFilename(), 'admin-manual.en.html');
    await byId('lang-zh').click();
    await expectText(byId('page-title'), '管理员手册');
  });

  await step('PBX手册 without a PBX manual: the server’s message and the 9999 link', async () => {
    await byId('nav-manualPbx').click();
    await expectHash(page, '#/manual/pbx');
    await expectText(byId('page-title'), 'PBX手册');
    await byId('pbx-manual-missing').waitFor({ state: 'visible' });
    await expectText(byId('pbx-manual-message'), /未安装 PBX 使用手册/);
    const link = byId('pbx-manual-pbx-link');
    assert.equal(await link.getAttribute('href'), 'https://127.0.0.1:9999/');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.match(await link.getAttribute('rel'), /noopener/);
    assert.equal(await byId('pbx-manual-view').count(), 0);
    await screenshot(page, `${JOURNEY}-pbx-missing.png`);
  });

  await step('a PBX manual installed: 查看 and 下载 offered, the URL answers a PDF', async () => {
    await writeFile(path.join(daemon.dataDir, 'pbx-manual.pdf'), tinyPdf());
    await page.reload();
    await byId('pbx-manual-present').waitFor({ state: 'visible' });
    const view = byId('pbx-manual-view');
    await expectText(view, '查看');
    assert.equal(await view.getAttribute('href'), '/api/v1/manuals/pbx');
    assert.equal(await view.getAttribute('target'), '_blank');
    const dl = byId('pbx-manual-download');
    await expectText(dl, '下载');
    assert.equal(await dl.getAttribute('href'), '/api/v1/manuals/pbx?download=1');
    // The page's own session (cookies) fetches it.
    const head = await page.request.fetch(new URL('/api/v1/manuals/pbx', daemon.url).href, { method: 'HEAD' });
    assert.equal(head.status(), 200);
    assert.equal(head.headers()['content-type'], 'application/pdf');
    const get = await page.request.get(new URL('/api/v1/manuals/pbx?download=1', daemon.url).href);
    assert.equal(get.status(), 200);
    assert.equal(get.headers()['content-type'], 'application/pdf');
    assert.match(get.headers()['content-disposition'], /^attachment/);
    assert.equal((await get.body()).subarray(0, 5).toString(), '%PDF-');
    await screenshot(page, `${JOURNEY}-pbx-present.png`);
  });

  await step('no page errors, CSP violations or off-loopback requests', async () => {
    assert.deepEqual(log.pageErrors, []);
    assert.deepEqual(log.cspViolations, []);
    assert.deepEqual(log.blocked, []);
  });
});
