// Hash routing: '#/login', '#/dashboard', '#/advanced/prompts', ...

import { useEffect, useState } from 'preact/hooks';

export function currentPath() {
  let p = location.hash.replace(/^#/, '').split('?')[0];
  if (!p.startsWith('/')) p = '/';
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

export function navigate(path, { replace = false } = {}) {
  if (currentPath() === path) return;
  if (replace) location.replace('#' + path);
  else location.hash = path;
}

export function useRoute() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onChange = () => setPath(currentPath());
    window.addEventListener('hashchange', onChange);
    onChange();
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return path;
}
