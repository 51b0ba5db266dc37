// The navigation of the manual, in its order (§3–§12), and the pages that are not
// in the navigation (admin menu: 设置, 系统说明, 固件升级; 控制台).
//
// `group` items hold children; `external` items open outside the console.

export const NAV = [
  { key: 'dashboard', path: '/dashboard', icon: 'dashboard' },
  { key: 'agents', path: '/agents', icon: 'agents' },
  { key: 'queues', path: '/queues', icon: 'queues' },
  { key: 'recordings', path: '/recordings', icon: 'recordings' },
  { key: 'voicemail', path: '/voicemail', icon: 'voicemail' },
  { key: 'oplog', path: '/oplog', icon: 'oplog' },
  {
    key: 'advanced',
    icon: 'advanced',
    children: [
      { key: 'prompts', path: '/advanced/prompts' },
      { key: 'settings', path: '/advanced/settings' },
      { key: 'customTable', path: '/advanced/custom-table' },
      // 其他设置's 邮件通知 and 删除数据 on pages of their own.
      { key: 'mail', path: '/advanced/mail' },
      { key: 'dataDeletion', path: '/advanced/data-deletion' },
    ],
  },
  { key: 'pbx', external: true, icon: 'pbx' },
  { key: 'manualAdmin', path: '/manual/admin', icon: 'book' },
  { key: 'manualPbx', path: '/manual/pbx', icon: 'book' },
];

/** The PBX's own web interface: same host as the console, port 9999 (manual §5, §10). */
export function pbxUrl() {
  return `https://${location.hostname}:9999/`;
}

/** path → { key, parent } for every navigation entry that is a page of the console. */
export const NAV_PAGES = new Map();
for (const item of NAV) {
  if (item.path) NAV_PAGES.set(item.path, { key: item.key, parent: null });
  for (const child of item.children || []) NAV_PAGES.set(child.path, { key: child.key, parent: item.key });
}

/** Pages reached from the admin menu or from another page. */
export const EXTRA_PAGES = ['/settings', '/about', '/system/upgrade', '/console'];

/** The agent's own page (role agent or leader), outside the admin frame. */
export const AGENT_PATH = '/agent';

export function isAppPath(path) {
  return NAV_PAGES.has(path) || EXTRA_PAGES.includes(path) || path === AGENT_PATH;
}
