// The pyworkers status page: polls ./status once a second and draws it. Plain browser JS, no
// build step; uPlot comes from the package's own copy (assets/uPlot.iife.min.js). Everything a
// worker can influence (names, URLs, tracebacks) is written with textContent, never as HTML.
(() => {
  const POLL_MS = 1000;
  const COLORS = ['#2f6fde', '#e0662b', '#1e8e3e', '#a23ad6', '#c0392b', '#0f9aa8', '#b58900'];
  const charts = new Map();
  let chartWorkers = '';

  const el = (tag, attrs = {}, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const mib = (b) => (b == null ? '-' : `${(b / 1048576).toFixed(1)} MiB`);
  const ms = (v) => (v == null ? '-' : `${v} ms`);
  const pct = (v) => (v == null ? '-' : `${(v * 100).toFixed(1)}%`);
  const num = (v) => (v == null ? '-' : String(v));

  const WORKER_FIELDS = [
    ['requestsPerSecond', num],
    ['requests', num],
    ['coldStarts', num],
    ['warmRatio', pct],
    ['p50Ms', ms],
    ['p99Ms', ms],
    ['isolates', num],
    ['bytes', mib],
    ['evictions', num],
    ['sheds', num],
    ['errors', num],
  ];

  function cell(field, value, format) {
    return el('td', { 'data-field': field, 'data-value': value ?? '' }, format(value));
  }

  function renderWorkers(workers) {
    const body = document.querySelector('#workers tbody');
    body.replaceChildren(
      ...workers.map((w) => {
        const tr = el('tr', { 'data-worker': w.worker });
        tr.append(el('td', { 'data-field': 'worker' }, w.worker));
        for (const [field, format] of WORKER_FIELDS) tr.append(cell(field, w[field], format));
        return tr;
      }),
    );
  }

  function renderHosts(hosts) {
    const body = document.querySelector('#hosts tbody');
    body.replaceChildren(
      ...hosts.map((h) => {
        const tr = el('tr', { 'data-host': h.id });
        const isolates = h.workers.reduce((n, w) => n + w.isolates, 0);
        tr.append(
          el('td', {}, String(h.id)),
          el('td', {}, h.stale ? `${h.kind} (not answering)` : h.kind),
          cell('pid', h.pid, num),
          cell('inflight', h.inflight, num),
          cell('cpuPercent', h.cpuPercent, (v) => (v == null ? '-' : `${v}%`)),
          cell('rssBytes', h.rssBytes, mib),
          el('td', {}, `${mib(h.usedBytes)} / ${mib(h.budgetBytes)}`),
          cell('isolates', isolates, num),
        );
        return tr;
      }),
    );
  }

  function renderErrors(errors) {
    const list = document.getElementById('errors');
    document.getElementById('no-errors').hidden = errors.length > 0;
    list.replaceChildren(
      ...errors.map((e) => {
        const li = el('li', { 'data-worker': e.worker ?? '' });
        const when = new Date(e.time).toLocaleTimeString();
        li.append(
          el(
            'strong',
            {},
            `${when}  ${e.worker ?? '(no worker)'}  ${e.status}  ${e.method ?? ''} ${e.url}`,
          ),
          el('pre', {}, e.message),
        );
        return li;
      }),
    );
  }

  function chartData(status, metric) {
    const xs = status.seriesTimes.map((t) => t / 1000);
    const ys = status.workers.map((w) =>
      w.series[metric].map((v) => (v == null ? null : metric === 'memoryBytes' ? v / 1048576 : v)),
    );
    return [xs, ...ys];
  }

  function renderPlots(status) {
    const names = status.workers.map((w) => w.worker).join('\n');
    if (names !== chartWorkers) {
      for (const c of charts.values()) c.destroy();
      charts.clear();
      chartWorkers = names;
    }
    for (const div of document.querySelectorAll('.plot')) {
      const metric = div.dataset.plot;
      const data = chartData(status, metric);
      let chart = charts.get(metric);
      if (!chart) {
        chart = new uPlot(
          {
            width: Math.max(300, div.clientWidth),
            height: 200,
            scales: {
              x: { time: true },
              y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
            },
            axes: [{}, { size: 64 }],
            legend: { live: false },
            series: [
              {},
              ...status.workers.map((w, k) => ({
                label: w.worker,
                stroke: COLORS[k % COLORS.length],
                width: 1.5,
                spanGaps: false,
              })),
            ],
          },
          data,
          div,
        );
        charts.set(metric, chart);
      } else {
        chart.setData(data);
      }
      // What this plot drew, per worker, for people reading the DOM (and the browser test).
      div.dataset.points = String(data[0].length);
      div.dataset.sums = JSON.stringify(
        Object.fromEntries(
          status.workers.map((w, k) => [w.worker, data[k + 1].reduce((a, v) => a + (v ?? 0), 0)]),
        ),
      );
    }
  }

  function render(status) {
    const s = status.system;
    document.getElementById('summary').textContent =
      `${status.workers.length} workers, ${status.hosts.length} host processes, ${status.inflight} in flight, ` +
      `load ${s.loadavg.join(' ')} on ${s.cpus} cpus, router ${mib(s.rssBytes)}, up ${s.uptimeSeconds} s` +
      (status.draining ? ', draining' : '');
    renderWorkers(status.workers);
    renderHosts(status.hosts);
    renderErrors(status.errors);
    renderPlots(status);
    document.body.dataset.statusTime = String(status.time);
  }

  async function poll() {
    const live = document.getElementById('live');
    try {
      const res = await fetch('status', { cache: 'no-store', credentials: 'same-origin' });
      if (!res.ok) throw new Error(`status ${res.status}`);
      render(await res.json());
      live.classList.remove('stale');
      live.textContent = 'live';
    } catch (err) {
      live.classList.add('stale');
      live.textContent = `not updating (${err.message})`;
    }
    setTimeout(poll, POLL_MS);
  }

  window.addEventListener('resize', () => {
    for (const [metric, chart] of charts) {
      const div = document.querySelector(`[data-plot="${metric}"]`);
      chart.setSize({ width: Math.max(300, div.clientWidth), height: 200 });
    }
  });
  poll();
})();
