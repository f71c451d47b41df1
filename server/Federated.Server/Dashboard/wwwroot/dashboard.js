'use strict';
// The dashboard's pages: one server-sent event stream per page, rendered on every push.
(() => {
  let session = null;
  let stream = null;
  const page = document.getElementById('page');

  const h = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  };
  const bytes = n => n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
  const duration = s => s === null || s === undefined ? '—' : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
  const ago = t => duration((Date.now() - new Date(t).getTime()) / 1000) + ' ago';
  const pct = v => `${(v * 100).toFixed(1)} %`;

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-TOKEN': session.antiforgeryToken },
      body: body === undefined ? '{}' : JSON.stringify(body),
    });
    if (response.status === 401) location.href = 'login.html';
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  function follow(url, render) {
    if (stream) stream.close();
    const live = document.getElementById('live');
    live.textContent = 'connecting…';
    stream = new EventSource(url);
    stream.onmessage = event => {
      live.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
      render(JSON.parse(event.data));
    };
    stream.onerror = async () => {
      live.textContent = 'reconnecting…';
      const s = await (await fetch('api/session', { credentials: 'same-origin' })).json().catch(() => null);
      if (!s || !s.user) location.href = 'login.html';
    };
  }

  function select(nav) {
    for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.id === nav);
  }

  // Server-wide client counts as cards; a note while the server re-reads its clients after a restart.
  function clientCards(c, indexing) {
    const cards = [['clients', c.total], ['active', c.active], ['idle', c.idle], ['unavailable', c.unavailable]].map(([label, n]) => h('div', { class: 'card', 'data-count': label }, h('div', { class: 'big' }, n), label));
    if (indexing) cards.push(h('p', { id: 'indexing' }, 'reading the enrolled clients after a restart…'));
    document.getElementById('client-counts').replaceChildren(...cards);
  }

  // Overview: every job, newest first, with its clients (active: training a task of the job; idle: eligible, not
  // working on it; unavailable: paused, drained, removed, dropped by its scheduler or not seen recently).
  function overview() {
    select('nav-overview');
    page.replaceChildren(h('h1', {}, 'Overview'), h('div', { id: 'client-counts', class: 'cards' }), h('div', { id: 'jobs' }, 'No jobs yet.'));
    follow('api/overview', data => {
      clientCards(data.clients, data.indexing);
      if (data.jobs.length === 0) return;
      const counts = c => c ? [h('span', { class: 'active' }, c.active), ' / ', h('span', { class: 'idle' }, c.idle), ' / ', h('span', { class: 'unavailable' }, c.unavailable)] : '—';
      document.getElementById('jobs').replaceChildren(h('table', { id: 'jobs-table' },
        h('thead', {}, h('tr', {}, ...['Job', 'State', 'Round', 'Progress', 'Clients active / idle / unavailable', 'Clients last round', 'Bytes moved', 'Held-out loss', 'ETA'].map(t => h('th', {}, t)))),
        h('tbody', {}, ...data.jobs.map(job => {
          const last = job.rounds[job.rounds.length - 1];
          const loss = [...job.rounds].reverse().find(r => r.evaluation)?.evaluation?.loss ?? job.baseline?.loss;
          return h('tr', { 'data-job': job.id },
            h('td', {}, h('a', { href: `#/job/${encodeURIComponent(job.id)}` }, job.id)),
            h('td', {}, h('span', { class: `badge ${job.status}` }, job.status)),
            h('td', {}, `${job.completedRounds} / ${job.totalRounds}`),
            h('td', {}, h('progress', { max: 1, value: job.progress }), ` ${pct(job.progress)}`),
            h('td', { class: 'job-clients' }, counts(job.clients)),
            h('td', {}, last ? last.participants.length : '—'),
            h('td', {}, bytes(job.bytesMoved)),
            h('td', {}, loss === undefined ? '—' : loss.toFixed(4)),
            h('td', {}, job.status === 'running' ? duration(job.etaSeconds) : '—'));
        }))));
    });
  }

  // Job: metrics per round, the Gantt of a round, ranks and sizes, configuration, actions, event log.
  function job(id) {
    select('');
    let chosenRound = null;
    const statusBadge = h('span', { id: 'job-status', class: 'badge' });
    const actions = ['pause', 'resume', 'stop'].map(action => h('button', {
      id: `job-${action}`, type: 'button', onclick: async () => {
        const result = await post(`api/jobs/${encodeURIComponent(id)}/${action}`);
        document.getElementById('job-message').textContent = result.ok ? `${action}: done` : result.data.error;
      },
    }, action[0].toUpperCase() + action.slice(1)));
    const roundPicker = h('select', { id: 'adapter-round' });
    const download = h('a', { id: 'download-adapter', class: 'button' }, 'Download adapter (PEFT zip)');
    let roundChosen = false;
    roundPicker.addEventListener('change', () => { roundChosen = true; download.href = `api/jobs/${encodeURIComponent(id)}/adapter?round=${roundPicker.value}`; });
    const ganttPicker = h('select', { id: 'gantt-round', onchange: e => { chosenRound = +e.target.value; } });
    page.replaceChildren(
      h('h1', {}, `Job ${id} `, statusBadge),
      h('div', { class: 'toolbar' }, ...actions, h('span', { class: 'spacer' }), 'Global adapter after round ', roundPicker, download),
      h('p', { id: 'job-message', role: 'status' }),
      h('div', { id: 'job-summary', class: 'cards' }),
      h('div', { class: 'charts' }, h('div', { id: 'loss-chart' }), h('div', { id: 'accuracy-chart' }), h('div', { id: 'rank-chart' }), h('div', { id: 'size-chart' })),
      h('h2', {}, 'Tasks per round ', ganttPicker),
      h('div', { id: 'gantt' }),
      h('div', { class: 'columns' },
        h('div', {}, h('h2', {}, 'Strategy, scheduler and parameters'), h('table', { id: 'config' })),
        h('div', {}, h('h2', {}, 'Event log'), h('ol', { id: 'events', class: 'events' }))));

    let lastRender = null;
    const render = data => {
      lastRender = data;
      statusBadge.textContent = data.status;
      statusBadge.className = `badge ${data.status}`;
      document.getElementById('job-pause').disabled = data.status !== 'running';
      document.getElementById('job-resume').disabled = data.status !== 'paused';
      document.getElementById('job-stop').disabled = !['running', 'paused'].includes(data.status);
      document.getElementById('job-summary').replaceChildren(
        ...[['round', `${data.completedRounds} / ${data.totalRounds}`], ['progress', pct(data.progress)], ['bytes moved', bytes(data.bytesMoved)], ['ETA', data.status === 'running' ? duration(data.etaSeconds) : '—']]
          .map(([label, v]) => h('div', { class: 'card' }, h('div', { class: 'big' }, v), label)));

      const evaluated = data.rounds.filter(r => r.evaluation).map(r => ({ x: r.round, m: r.evaluation }));
      if (data.baseline) evaluated.unshift({ x: 0, m: data.baseline });
      document.getElementById('loss-chart').replaceChildren(Charts.line('Held-out loss per round (0: base model)', 'round', 'loss (nats / token)', evaluated.map(p => ({ x: p.x, y: p.m.loss })), v => v.toFixed(2)));
      document.getElementById('accuracy-chart').replaceChildren(Charts.line('Held-out token accuracy per round', 'round', 'token accuracy (%)', evaluated.map(p => ({ x: p.x, y: p.m.tokenAccuracy * 100 })), v => v.toFixed(1)));
      document.getElementById('rank-chart').replaceChildren(Charts.stacked('Stacked rank per round (one block per client)', 'round', 'rank', data.rounds.map(r => ({ x: r.round, parts: r.participants.map(p => ({ value: p.rank, label: `${p.clientId} rank ${p.rank}` })) }))));
      document.getElementById('size-chart').replaceChildren(Charts.stacked('Global update size per round', 'round', 'size (MiB)', data.rounds.map(r => ({ x: r.round, parts: [{ value: r.updateBytes / (1 << 20), label: bytes(r.updateBytes) }] })), v => v.toFixed(2)));

      const rounds = data.rounds.map(r => r.round);
      const keep = roundPicker.value;
      roundPicker.replaceChildren(...rounds.map(r => h('option', { value: r }, r)));
      roundPicker.value = roundChosen && rounds.includes(+keep) ? keep : (rounds[rounds.length - 1] ?? '');
      download.toggleAttribute('hidden', rounds.length === 0);
      if (rounds.length) download.href = `api/jobs/${encodeURIComponent(id)}/adapter?round=${roundPicker.value}`;
      ganttPicker.replaceChildren(...rounds.map(r => h('option', { value: r }, `round ${r}`)));
      const shown = data.rounds.find(r => r.round === chosenRound) ?? data.rounds[data.rounds.length - 1];
      if (shown) ganttPicker.value = shown.round;
      document.getElementById('gantt').replaceChildren(shown ? Charts.gantt(`Round ${shown.round}: each client's task`, ...ganttRows(shown)) : h('p', {}, 'No round has completed yet.'));

      const flat = [];
      const walk = (prefix, value) => {
        if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
        else flat.push([prefix, Array.isArray(value) ? value.join(', ') : String(value)]);
      };
      walk('', data.config);
      document.getElementById('config').replaceChildren(...flat.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))));
      document.getElementById('events').replaceChildren(...[...data.events].reverse().map(e => h('li', {}, h('time', {}, new Date(e.at).toLocaleTimeString()), ' ', e.message)));
    };
    ganttPicker.addEventListener('change', () => lastRender && render(lastRender));

    // From the server's times where the round has them: hand-out, the client's download and training, the
    // rest of the way back (network), then waiting for the aggregation; "late" past the task's deadline.
    function ganttRows(round) {
      const timed = round.participants.every(p => p.issuedAt && p.arrivedAt);
      const origin = timed ? Math.min(...round.participants.map(p => new Date(p.issuedAt))) : new Date(round.startedAt);
      const seconds = at => (new Date(at) - origin) / 1000;
      const aggregated = seconds(round.completedAt);
      const rows = round.participants.map(p => {
        if (!timed) {
          return { label: `${p.clientId} (r${p.rank})`, end: p.downloadSeconds + p.computeSeconds,
            pieces: [{ from: 0, to: p.downloadSeconds, kind: 'download' }, { from: p.downloadSeconds, to: p.downloadSeconds + p.computeSeconds, kind: 'train' }] };
        }
        const issued = seconds(p.issuedAt), arrived = seconds(p.arrivedAt);
        const download = issued + Math.min(p.downloadSeconds, arrived - issued);
        const trained = Math.min(download + p.computeSeconds, arrived);
        const late = p.deadline && new Date(p.arrivedAt) > new Date(p.deadline);
        const pieces = [{ from: issued, to: download, kind: 'download' }, { from: download, to: trained, kind: 'train' }];
        if (arrived > trained) pieces.push({ from: trained, to: arrived, kind: 'network' });
        if (aggregated > arrived) pieces.push({ from: arrived, to: aggregated, kind: 'wait' });
        const notes = [`r${p.rank}`, p.group ? `group ${p.group}` : null, p.staleness ? `stale ${p.staleness}` : null, late ? 'late' : null].filter(Boolean);
        return { label: `${p.clientId} (${notes.join(', ')})`, end: Math.max(arrived, aggregated), pieces };
      });
      const axis = timed ? 'seconds since the first task was handed out (download, training, network, waiting)' : 'seconds since the round started (download, then training)';
      return [rows, [{ at: aggregated, label: 'aggregated' }], axis];
    }
    follow(`api/jobs/${encodeURIComponent(id)}`, render);
  }

  // Clients: one page of the table at a time (the server filters and slices its client index; fine for 10,000 clients).
  function clients(query) {
    select('nav-clients');
    const params = new URLSearchParams(query);
    const index = Math.max(0, +(params.get('page') || 0));
    const search = params.get('q') || '';
    const size = 50;
    const go = (p, q) => { location.hash = `#/clients?page=${p}&q=${encodeURIComponent(q)}`; };
    const box = h('input', { id: 'client-search', type: 'search', placeholder: 'filter: id, device, version, label (key=value), activity, admission', value: search });
    box.addEventListener('change', () => go(0, box.value));
    page.replaceChildren(h('h1', {}, 'Clients'), h('div', { id: 'client-counts', class: 'cards' }),
      h('div', { class: 'toolbar' }, box, h('button', { id: 'prev-page', type: 'button', onclick: () => go(index - 1, search) }, '‹ previous'),
        h('span', { id: 'page-info' }), h('button', { id: 'next-page', type: 'button', onclick: () => go(index + 1, search) }, 'next ›')),
      h('table', { id: 'clients-table' }, h('thead', {}, h('tr', {}, ...['Client', 'Device', 'Version', 'Labels', 'Cores', 'Memory', 'Measured speed', 'Seconds / step', 'Trend', 'Rank', 'Task: job · rank · steps', 'Activity', 'Last seen', 'Tasks done', 'Expired', 'Admission', 'Actions'].map(t => h('th', {}, t)))), h('tbody', {})));
    follow(`api/clients?page=${index}&size=${size}&q=${encodeURIComponent(search)}`, data => {
      clientCards(data.counts, data.indexing);
      const pages = Math.max(1, Math.ceil(data.matching / data.pageSize));
      document.getElementById('page-info').textContent = `page ${data.page + 1} of ${pages} (${data.matching} clients)`;
      document.getElementById('prev-page').disabled = data.page === 0;
      document.getElementById('next-page').disabled = data.page + 1 >= pages;
      document.querySelector('#clients-table tbody').replaceChildren(...data.items.map(x => h('tr', { 'data-client': x.id, class: x.available ? '' : 'unavailable' },
        h('td', {}, x.id), h('td', {}, x.accelerator ? `${x.device} (${x.accelerator})` : x.device),
        h('td', { class: 'version' }, x.clientVersion || '—'),
        h('td', { class: 'labels' }, ...Object.entries(x.labels).map(([k, v]) => h('span', { class: 'label' }, `${k}=${v}`))),
        h('td', {}, x.cpuCores), h('td', {}, bytes(x.memoryBytes)),
        h('td', {}, `${x.measuredGflops.toFixed(1)} GFLOP/s`), h('td', {}, x.secondsPerStep == null ? '—' : x.secondsPerStep.toFixed(3)),
        h('td', {}, Charts.spark(x.speedTrend)), h('td', {}, x.rank ?? '—'),
        h('td', { class: 'assignment' }, x.assignedJob ? `${x.assignedJob} · r${x.assignedRank} · ${x.assignedSteps} steps` : '—'),
        h('td', {}, x.live ? (x.activity === 'idle' ? 'idle' : `${x.activity} ${pct(x.progress)}`) : 'not seen recently'),
        h('td', {}, ago(x.lastSeen)), h('td', {}, x.tasksCompleted), h('td', {}, x.tasksExpired),
        h('td', { class: 'admission' }, x.admission),
        h('td', { class: 'actions' }, ...clientActions(x)))));
    });
  }

  // Pause (no new tasks), resume, drain (finish the current task, then leave) or remove a client.
  function clientActions(client) {
    const allowed = { active: ['pause', 'drain', 'remove'], paused: ['resume', 'drain', 'remove'], draining: ['remove'], removed: [] }[client.admission] || [];
    return allowed.map(action => h('button', {
      type: 'button', class: 'small', 'data-action': action, onclick: async () => {
        if (action === 'remove' && !confirm(`Remove ${client.id}? It may not enrol again.`)) return;
        const result = await post(`api/clients/${encodeURIComponent(client.id)}/${action}`);
        if (!result.ok) alert(result.data.error);
      },
    }, action));
  }

  // Create job: the server's validator checks it; its message appears by the field it names.
  function create() {
    select('nav-create');
    if (stream) { stream.close(); stream = null; }
    document.getElementById('live').textContent = '';
    const field = (label, name, attrs) => h('label', {}, label, h('input', { name, 'data-field': name, ...attrs }), h('span', { class: 'field-error', 'data-for': name }));
    const strategy = h('select', { name: 'aggregation_strategy', 'data-field': 'aggregation_strategy' }, ...['stacking', 'fedit', 'zero-padding', 'flexlora'].map(s => h('option', { value: s }, s)));
    const scheduler = h('select', { name: 'scheduler', id: 'scheduler', 'data-field': 'scheduler.policy' }, ...['fedcompass', 'synchronous', 'fedasync', 'fedbuff'].map(s => h('option', { value: s }, s)));
    const form = h('form', { id: 'create-form', class: 'form' },
      field('Job id (empty: generated)', 'job_id', { id: 'job-id' }),
      field('Base model (builtin:tiny, or a model directory on the server)', 'base_model', { value: 'builtin:tiny', required: true }),
      field('Target modules (comma-separated; empty: all seven)', 'target_modules', {}),
      field('Ranks rule (ranks handed out in join order, cycling)', 'ranks', { value: '4,8' }),
      field('Rounds', 'rounds', { type: 'number', value: 3, id: 'rounds' }),
      field('Minimum clients per round', 'min_clients_per_round', { type: 'number', value: 1 }),
      field('Clients per round', 'clients_per_round', { type: 'number', value: 2 }),
      field('Local steps', 'local_steps', { type: 'number', value: 20 }),
      field('Learning rate', 'learning_rate', { type: 'number', step: 'any', value: 0.01 }),
      field('Batch size', 'batch_size', { type: 'number', value: 16 }),
      field('Held-out evaluation data (empty: none)', 'evaluation_dataset', { value: 'builtin:synthetic?split=test&count=64&seed=1' }),
      field('Task timeout (seconds)', 'task_timeout_seconds', { type: 'number', value: 600 }),
      h('label', {}, 'Aggregation strategy', strategy, h('span', { class: 'field-error', 'data-for': 'aggregation_strategy' })),
      h('label', {}, 'Scheduler (fedcompass: tasks sized per client; synchronous: rounds of the clients above)', scheduler, h('span', { class: 'field-error', 'data-for': 'scheduler.policy' })),
      h('fieldset', { id: 'scheduler-parameters' }, h('legend', {}, 'Scheduler parameters (empty: the default)'),
        field('Fewest local steps of a task, Q_min (fedcompass; 20)', 'scheduler.min_steps', { type: 'number' }),
        field('Most local steps of a task, Q_max (fedcompass; 100)', 'scheduler.max_steps', { type: 'number' }),
        field('Latest-arrival factor λ of a group (fedcompass; 1.5)', 'scheduler.latest_factor', { type: 'number', step: 'any' }),
        field('Staleness weight α in α·S(τ)·n_k/N (fedcompass, fedasync, fedbuff; 0.9)', 'scheduler.staleness_alpha', { type: 'number', step: 'any' }),
        field('Staleness exponent a in S(τ) = (τ + 1)^−a (fedcompass, fedasync, fedbuff; 0.5)', 'scheduler.staleness_exponent', { type: 'number', step: 'any' }),
        field('Update weights: federation (n_k/N over all the job\'s clients) or batch (share of each aggregation) (fedcompass, fedasync, fedbuff; federation)', 'scheduler.weighting'),
        field('Updates per aggregation K (fedbuff; 10)', 'scheduler.buffer_size', { type: 'number' }),
        field('Deadlines a client may miss in a row before it is unavailable (fedcompass; 3)', 'scheduler.max_missed_deadlines', { type: 'number' }),
        field('Momentum m of the speed estimate (0.9)', 'scheduler.speed_momentum', { type: 'number', step: 'any' }),
        field('Rank tiers, first met wins: rank:min memory GiB[:max seconds per step], … (e.g. 16:16,8:8:2.5)', 'scheduler.rank_tiers', { id: 'rank-tiers' })),
      h('label', {}, 'More JobSpec fields as JSON (scheduler, its parameters, …)', h('textarea', { name: 'extra', rows: 3, placeholder: '{"compactionRankBudget": 0}' }), h('span', { class: 'field-error', 'data-for': 'extra' })),
      h('p', { id: 'create-error', class: 'error', role: 'alert' }),
      h('button', { type: 'submit', id: 'create-submit' }, 'Create and start'));
    form.addEventListener('submit', async event => {
      event.preventDefault();
      for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
      document.getElementById('create-error').textContent = '';
      const v = name => form.elements[name].value.trim();
      const num = name => v(name) === '' ? undefined : Number(v(name));
      const list = name => v(name) === '' ? [] : v(name).split(',').map(s => s.trim()).filter(Boolean);
      let extra = {};
      try { extra = v('extra') ? JSON.parse(v('extra')) : {}; } catch (e) {
        form.querySelector('[data-for=extra]').textContent = `not JSON: ${e.message}`;
        return;
      }
      const tiers = rankTiers(v('scheduler.rank_tiers'));
      if (typeof tiers === 'string') {
        form.querySelector('[data-for="scheduler.rank_tiers"]').textContent = tiers;
        return;
      }
      const defined = o => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
      const schedulerParameters = defined({
        minSteps: num('scheduler.min_steps'), maxSteps: num('scheduler.max_steps'), latestFactor: num('scheduler.latest_factor'),
        stalenessAlpha: num('scheduler.staleness_alpha'), stalenessExponent: num('scheduler.staleness_exponent'), bufferSize: num('scheduler.buffer_size'),
        maxMissedDeadlines: num('scheduler.max_missed_deadlines'), speedMomentum: num('scheduler.speed_momentum'), rankTiers: tiers.length ? tiers : undefined,
        weighting: v('scheduler.weighting') || undefined,
      });
      const spec = {
        jobId: v('job_id'), baseModel: v('base_model'), targetModules: list('target_modules'), ranks: list('ranks').map(Number),
        rounds: num('rounds'), minClientsPerRound: num('min_clients_per_round'), clientsPerRound: num('clients_per_round'), localSteps: num('local_steps'),
        hyperparameters: { learningRate: num('learning_rate'), batchSize: num('batch_size') },
        evaluationDataset: v('evaluation_dataset'), taskTimeoutSeconds: num('task_timeout_seconds'), aggregationStrategy: strategy.value, ...extra,
        scheduler: { ...(extra.scheduler || {}), ...schedulerParameters, policy: scheduler.value },
      };
      const result = await post('api/jobs', spec);
      if (result.ok) { location.hash = `#/job/${encodeURIComponent(result.data.id)}`; return; }
      document.getElementById('create-error').textContent = result.data.error || `the server answered ${result.status}`;
      // A field inside a list (scheduler.rank_tiers[1].rank) shows at the list's input.
      const at = result.data.field && (form.querySelector(`[data-for="${result.data.field}"]`) || form.querySelector(`[data-for="${result.data.field.replace(/\[\d+\].*$/, '')}"]`));
      if (at) at.textContent = result.data.error;
    });
    page.replaceChildren(h('h1', {}, 'Create a job'), form);
  }

  // "16:16,8:8:2.5" → [{ rank: 16, minMemoryGib: 16 }, { rank: 8, minMemoryGib: 8, maxSecondsPerStep: 2.5 }], or a message naming the bad tier.
  function rankTiers(text) {
    if (!text) return [];
    const tiers = [];
    for (const [i, part] of text.split(',').map(t => t.trim()).entries()) {
      const values = part.split(':').map(Number);
      if (values.length < 2 || values.length > 3 || values.some(x => !Number.isFinite(x)))
        return `tier ${i + 1} ('${part}') is not rank:min memory GiB[:max seconds per step]`;
      tiers.push({ rank: values[0], minMemoryGib: values[1], ...(values.length === 3 ? { maxSecondsPerStep: values[2] } : {}) });
    }
    return tiers;
  }

  function route() {
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path, query] = hash.split('?');
    if (path.startsWith('/job/')) job(decodeURIComponent(path.slice(5)));
    else if (path === '/clients') clients(query || '');
    else if (path === '/create') create();
    else overview();
  }

  async function start() {
    session = await (await fetch('api/session', { credentials: 'same-origin' })).json();
    if (!session.user) { location.href = 'login.html'; return; }
    document.getElementById('user').textContent = session.user;
    document.getElementById('insecure').hidden = !session.insecure;
    document.getElementById('nav-orleans').href = session.orleansPath + '/';
    document.getElementById('sign-out').addEventListener('click', async () => { await post('api/logout'); location.href = 'login.html'; });
    window.addEventListener('hashchange', route);
    route();
  }
  start();
})();
