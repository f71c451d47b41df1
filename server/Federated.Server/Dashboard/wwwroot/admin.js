'use strict';
// The admin page: join tokens, operator accounts and the audit trail (role admin; the API refuses anyone else).
(() => {
  let session = null;
  const h = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  };
  const when = t => t ? new Date(t).toLocaleString() : '—';

  async function call(method, url, body) {
    const response = await fetch(url, {
      method, credentials: 'same-origin',
      headers: method === 'POST' ? { 'Content-Type': 'application/json', 'X-CSRF-TOKEN': session.antiforgeryToken } : {},
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
    });
    if (response.status === 401) location.href = 'login.html';
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  // A secret shown once: the server keeps only its hash.
  function showSecret(id, text, note) {
    const node = document.getElementById(id);
    node.hidden = false;
    node.replaceChildren(note, ' ', h('code', { id: `${id}-text` }, text));
  }

  const table = (id, headers, rows) => document.getElementById(id).replaceChildren(
    h('thead', {}, h('tr', {}, ...headers.map(t => h('th', {}, t)))), h('tbody', {}, ...rows));

  async function tokens() {
    const result = await call('GET', 'api/tokens');
    if (!result.ok) { document.getElementById('token-message').textContent = result.data.error ?? `HTTP ${result.status}`; return; }
    table('tokens', ['Id', 'Label', 'Used', 'Expires', 'Created by', 'Clients', ''], result.data.map(t => h('tr', { 'data-token': t.id },
      h('td', {}, t.id), h('td', {}, t.label), h('td', {}, `${t.used} / ${t.uses}`),
      h('td', {}, t.revoked ? 'revoked' : when(t.expiresAt)), h('td', {}, t.createdBy), h('td', {}, t.clients.join(', ')),
      h('td', {}, t.revoked ? '' : h('button', { class: 'small', type: 'button', onclick: async () => {
        const r = await call('POST', `api/tokens/${encodeURIComponent(t.id)}/revoke`);
        document.getElementById('token-message').textContent = r.ok ? `revoked ${t.id}` : r.data.error;
        tokens(); audit();
      } }, 'Revoke')))));
  }

  async function users() {
    const result = await call('GET', 'api/users');
    if (!result.ok) { document.getElementById('user-message').textContent = result.data.error ?? `HTTP ${result.status}`; return; }
    table('users', ['Name', 'Role', 'Source', 'Created', 'By', ''], result.data.map(u => {
      const managed = u.source === 'managed';
      const role = h('select', { disabled: !managed, onchange: async e => {
        const r = await call('POST', `api/users/${encodeURIComponent(u.name)}/role`, { role: e.target.value });
        document.getElementById('user-message').textContent = r.ok ? `${u.name} is now ${r.data.role}` : r.data.error;
        users(); audit();
      } }, ...['viewer', 'operator', 'admin'].map(n => h('option', { selected: n === u.role }, n)));
      return h('tr', { 'data-user': u.name }, h('td', {}, u.name), h('td', {}, role), h('td', {}, u.source), h('td', {}, when(u.createdAt)), h('td', {}, u.createdBy),
        h('td', {}, managed ? h('button', { class: 'small', type: 'button', onclick: async () => {
          const r = await call('POST', `api/users/${encodeURIComponent(u.name)}/remove`);
          document.getElementById('user-message').textContent = r.ok ? `removed ${u.name}` : r.data.error;
          users(); audit();
        } }, 'Remove') : 'change it in the settings'));
    }));
  }

  async function audit() {
    const result = await call('GET', 'api/audit?count=200');
    if (!result.ok) return;
    table('audit', ['#', 'When', 'Who', 'Role', 'Action', 'Target', 'Outcome', 'Detail', 'From', 'Through'], result.data.map(e => h('tr', { class: e.outcome },
      h('td', {}, e.sequence), h('td', {}, when(e.at)), h('td', {}, e.who), h('td', {}, e.role ?? ''), h('td', {}, e.action), h('td', {}, e.target),
      h('td', {}, e.outcome), h('td', {}, e.detail), h('td', {}, e.from), h('td', {}, e.through))));
  }

  document.getElementById('token-form').addEventListener('submit', async event => {
    event.preventDefault();
    const r = await call('POST', 'api/tokens', {
      uses: +document.getElementById('token-uses').value,
      expiresInSeconds: Math.round(+document.getElementById('token-hours').value * 3600),
      label: document.getElementById('token-label').value,
    });
    document.getElementById('token-message').textContent = r.ok ? `created ${r.data.info.id}` : r.data.error;
    if (r.ok) showSecret('token-secret', r.data.token, 'The token, shown this once (hand it to the new client for its first enrolment):');
    tokens(); audit();
  });

  document.getElementById('user-form').addEventListener('submit', async event => {
    event.preventDefault();
    const r = await call('POST', 'api/users', { name: document.getElementById('user-name').value, role: document.getElementById('user-role').value });
    document.getElementById('user-message').textContent = r.ok ? `added ${r.data.info.name}` : r.data.error;
    if (r.ok) showSecret('user-key', r.data.key, 'The account\'s key, shown this once (the dashboard password, or the CLI\'s --token):');
    users(); audit();
  });

  document.getElementById('audit-refresh').addEventListener('click', audit);

  (async () => {
    session = await (await fetch('api/session', { credentials: 'same-origin' })).json();
    if (!session.user) { location.href = 'login.html'; return; }
    document.getElementById('user').textContent = `${session.user} (${session.role})`;
    if (session.role !== 'admin') {
      document.getElementById('page').replaceChildren(h('p', { class: 'error' }, `This page needs role admin; ${session.user} has role ${session.role}.`));
      return;
    }
    tokens(); users(); audit();
  })();
})();
