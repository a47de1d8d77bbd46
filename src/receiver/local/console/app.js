// The receiver console's page: outcomes per minute, recent deliveries and the outbox, kept live by
// the server's event stream; replay, re-emit and reveal are POSTs carrying the console token.
// Items arrive masked; only a reveal of one item shows it as it is, until it is hidden again.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const root = /** @type {HTMLElement} */ (document.getElementById('app'));
const token = root.dataset.token ?? '';

const OUTCOMES = ['accepted', 'duplicate', 'rejected', 'unavailable'];
const COLOURS = { accepted: '#0b6e4f', duplicate: '#56606b', rejected: '#b3261e', unavailable: '#8a5a00' };
const OUTCOME_CLASS = { accepted: 'ok', duplicate: 'muted', rejected: 'bad', unavailable: 'warn' };
const STATE_CLASS = { delivered: 'ok', kept: 'ok', pending: 'warn', unsent: 'warn', dead: 'bad' };

/**
 * @param {string} path
 * @param {string} name
 * @returns {Promise<{ ok: boolean, body: any }>}
 */
const act = async (path, name) => {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-console-token': token },
    body: JSON.stringify({ name }),
  });
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, body };
};

/** @param {string} iso */
const time = (iso) => new Date(iso).toLocaleTimeString('en-AU', { hour12: false });

/** @param {{ outcomes: any[] }} props */
function OutcomeChart({ outcomes }) {
  const width = 600;
  const height = 90;
  const barWidth = width / outcomes.length;
  const most = Math.max(1, ...outcomes.map((m) => OUTCOMES.reduce((sum, o) => sum + m[o], 0)));
  const sum = (/** @type {any[]} */ minutes, /** @type {string} */ outcome) => minutes.reduce((total, m) => total + m[outcome], 0);
  const lastTen = outcomes.slice(-10);
  const label = `Deliveries per minute over the last hour: ${OUTCOMES.map((o) => `${sum(outcomes, o)} ${o}`).join(', ')}.`;
  return html`<section aria-labelledby="outcomes-title">
    <h2 id="outcomes-title">Outcomes, last hour</h2>
    <div class="body">
      <svg viewBox="0 0 ${width} ${height + 14}" width="100%" height="110" role="img" aria-label=${label}>
        ${outcomes.map((m, index) => {
          let y = height;
          return OUTCOMES.map((o) => {
            const h_ = (m[o] / most) * height;
            y -= h_;
            return m[o] > 0 ? html`<rect key=${`${index}-${o}`} x=${index * barWidth + 1} y=${y} width=${barWidth - 2} height=${h_} fill=${COLOURS[o]}><title>${time(m.minute)}: ${m[o]} ${o}</title></rect>` : null;
          });
        })}
        <line x1="0" y1=${height} x2=${width} y2=${height} stroke="#d9dee3" />
        <text x="0" y=${height + 12} font-size="10" fill="#56606b">${outcomes.length ? time(outcomes[0].minute) : ''}</text>
        <text x=${width} y=${height + 12} font-size="10" fill="#56606b" text-anchor="end">now</text>
      </svg>
      <table class="outcomes">
        <thead><tr><th scope="col">Outcome</th><th scope="col">This minute</th><th scope="col">Last 10 minutes</th><th scope="col">Last hour</th></tr></thead>
        <tbody>
          ${OUTCOMES.map(
            (o) => html`<tr key=${o} data-outcome=${o}>
              <th scope="row"><span class=${`pill ${OUTCOME_CLASS[o]}`}>${o}</span></th>
              <td data-span="minute">${outcomes.length ? outcomes[outcomes.length - 1][o] : 0}</td>
              <td data-span="ten">${sum(lastTen, o)}</td>
              <td data-span="hour">${sum(outcomes, o)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

/** @param {{ deliveries: any[] }} props */
function Deliveries({ deliveries }) {
  const shown = deliveries.slice(0, 100);
  return html`<section aria-labelledby="deliveries-title">
    <h2 id="deliveries-title">Recent deliveries <span class="muted">(${deliveries.length}, newest first; the last 500 are kept while the receiver runs)</span></h2>
    <div class="body">
      ${shown.length === 0
        ? html`<p class="muted">No delivery yet. They appear here as they arrive.</p>`
        : html`<table>
            <thead><tr><th scope="col">When</th><th scope="col">Webhook id</th><th scope="col">Events</th><th scope="col">Outcome</th><th scope="col">Took</th></tr></thead>
            <tbody>
              ${shown.map(
                (d) => html`<tr key=${d.seq} class="delivery" data-outcome=${d.outcome}>
                  <td>${time(d.at)}</td>
                  <td class="mono">${d.webhookId ?? '(none)'}</td>
                  <td class="mono">${d.events.length ? d.events.join(', ') : html`<span class="muted">—</span>`}</td>
                  <td><span class=${`pill ${OUTCOME_CLASS[d.outcome]}`}>${d.outcome}</span>${d.detail ? html` <span class="muted">${d.status} ${d.detail}</span>` : null}</td>
                  <td>${d.ms} ms</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    </div>
  </section>`;
}

/**
 * @param {{ outbox: any, forwarding: boolean, say: (text: string) => void }} props
 */
function Outbox({ outbox, forwarding, say }) {
  const [revealed, setRevealed] = useState(/** @type {{ name: string, item: any } | null} */ (null));
  const [open, setOpen] = useState(/** @type {string | null} */ (null));
  const [busy, setBusy] = useState(/** @type {string | null} */ (null));
  const counts = outbox.counts;

  /** @param {'replay' | 'resend' | 'reveal'} action @param {string} name */
  const run = async (action, name) => {
    setBusy(name);
    try {
      const { ok, body } = await act(`/console/api/${action}`, name);
      if (action === 'reveal') {
        if (ok) {
          setRevealed({ name, item: body.item });
          setOpen(name);
          say(`${name}: shown unmasked. Hide it when you are done.`);
        } else say(body.error?.message ?? `${name}: could not be revealed.`);
      } else say(body.message ?? body.error?.message ?? `${name}: ${ok ? 'done' : 'failed'}.`);
    } catch {
      say(`${name}: the console did not answer.`);
    } finally {
      setBusy(null);
    }
  };

  return html`<section aria-labelledby="outbox-title">
    <h2 id="outbox-title">Outbox <span class="muted">(${forwarding ? 'the forwarder posts these to your endpoint' : 'written to standard output; no forwarder'})</span></h2>
    <div class="body">
      <p class="outbox-counts">
        ${['pending', 'delivered', 'dead', 'unsent', 'kept'].map(
          (state) => html`<span key=${state} class="outbox-count" data-state=${state}><span class=${`pill ${STATE_CLASS[state]}`}>${state === 'dead' ? 'dead letters' : state}</span> <strong>${counts[state] ?? 0}</strong>${' '}</span>`,
        )}
      </p>
      <p class="muted">Customer details are masked. Reveal shows one item as it is, here only.</p>
      ${outbox.rows.length === 0
        ? html`<p class="muted">The outbox is empty.</p>`
        : html`<table>
            <thead><tr><th scope="col">Event</th><th scope="col">Id</th><th scope="col">About</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Handed off</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              ${outbox.rows.map((row) => {
                const isRevealed = revealed?.name === row.name;
                const rows = [
                  html`<tr key=${row.name} class=${`outbox-row${open === row.name ? ' selected' : ''}`} data-state=${row.state} data-name=${row.name}>
                    <td class="mono">${row.event}</td>
                    <td class="mono">${row.eventId}</td>
                    <td>${row.who ?? html`<span class="muted">—</span>`}</td>
                    <td><span class=${`pill ${STATE_CLASS[row.state] ?? ''}`}>${row.state === 'dead' ? 'dead letter' : row.state}</span></td>
                    <td>${row.attempts}</td>
                    <td class="last-error">${row.lastError ?? html`<span class="muted">—</span>`}</td>
                    <td>${time(row.createdAt)}</td>
                    <td class="row">
                      ${row.state === 'dead'
                        ? html`<button class="replay" disabled=${busy === row.name} aria-label=${`Replay ${row.name}`} onClick=${() => run('replay', row.name)}>Replay</button>`
                        : null}
                      ${row.state === 'unsent' && !forwarding
                        ? html`<button class="resend" disabled=${busy === row.name} aria-label=${`Write ${row.name} to standard output again`} onClick=${() => run('resend', row.name)}>Re-emit</button>`
                        : null}
                      <button class="secondary details" aria-expanded=${open === row.name} aria-label=${`Item ${row.name}`} onClick=${() => setOpen(open === row.name ? null : row.name)}>Item</button>
                      ${isRevealed
                        ? html`<button class="secondary hide" aria-label=${`Hide ${row.name}`} onClick=${() => setRevealed(null)}>Hide</button>`
                        : html`<button class="secondary reveal" disabled=${busy === row.name} aria-label=${`Reveal ${row.name}`} onClick=${() => run('reveal', row.name)}>Reveal</button>`}
                    </td>
                  </tr>`,
                ];
                if (open === row.name) {
                  rows.push(html`<tr key=${`${row.name}-item`} class="item-row">
                    <td colspan="8">
                      <p class=${isRevealed ? 'warn' : 'muted'}>${isRevealed ? 'Revealed: as received, customer details included.' : 'Masked.'}</p>
                      <pre tabindex="0" aria-label=${`Item ${row.name}, ${isRevealed ? 'revealed' : 'masked'}`} class=${isRevealed ? 'item revealed' : 'item masked'}>${JSON.stringify(isRevealed ? revealed.item : row.item, null, 2)}</pre>
                    </td>
                  </tr>`);
                }
                return rows;
              })}
            </tbody>
          </table>`}
    </div>
  </section>`;
}

function App() {
  const [state, setState] = useState(/** @type {any} */ (null));
  const [connected, setConnected] = useState(false);
  const [message, setMessage] = useState('');

  useEffect(() => {
    const source = new EventSource('/console/api/stream');
    source.addEventListener('open', () => setConnected(true));
    source.addEventListener('error', () => setConnected(false));
    source.addEventListener('state', (event) => {
      setConnected(true);
      setState(JSON.parse(/** @type {MessageEvent} */ (event).data));
    });
    source.addEventListener('delivery', (event) => {
      const { delivery, outcomes } = JSON.parse(/** @type {MessageEvent} */ (event).data);
      setState((/** @type {any} */ s) => s && { ...s, outcomes, deliveries: [delivery, ...s.deliveries].slice(0, 500) });
    });
    source.addEventListener('outcomes', (event) => {
      const outcomes = JSON.parse(/** @type {MessageEvent} */ (event).data);
      setState((/** @type {any} */ s) => s && { ...s, outcomes });
    });
    source.addEventListener('outbox', (event) => {
      const outbox = JSON.parse(/** @type {MessageEvent} */ (event).data);
      setState((/** @type {any} */ s) => s && { ...s, outbox });
    });
    return () => source.close();
  }, []);

  return html`<header class="bar">
      <h1>Receiver console</h1>
      <span class="meta">${state ? (state.forwarding ? 'forwarding to your endpoint' : 'items go to standard output') : ''}</span>
      <span class="meta" data-live=${connected ? 'yes' : 'no'}>${connected ? 'live' : 'connecting…'}</span>
    </header>
    <main>
      <p role="status" class="action-status">${message}</p>
      ${state
        ? html`<${OutcomeChart} outcomes=${state.outcomes} />
            <${Deliveries} deliveries=${state.deliveries} />
            <${Outbox} outbox=${state.outbox} forwarding=${state.forwarding} say=${setMessage} />`
        : html`<p class="muted">Loading…</p>`}
    </main>`;
}

render(html`<${App} />`, root);
