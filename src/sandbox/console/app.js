// The sandbox console in the browser: subscriptions, a form that fires events through the sandbox's
// own API, a live timeline of deliveries (Server-Sent Events from /console/stream), a delivery's
// headers and body, redelivery, and the built-in catch endpoint. Everything it shows comes from
// the sandbox's routes; actions carry the console token.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const root = /** @type {HTMLElement} */ (document.getElementById('app'));
const TOKEN = root.dataset.token || '';

/**
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<{status: number, json: any}>}
 */
async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-console-token': TOKEN },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json };
}

/** @param {{status: number, json: any}} answer */
function refusal(answer) {
  const e = answer.json && answer.json.error;
  return e ? `${e.message} (${answer.status} ${e.code})` : `the sandbox answered ${answer.status}`;
}

/** @param {string | undefined} iso */
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString('en-AU', { hour12: false }) : '');

/** @param {Record<string, unknown>} filters */
const filterText = (filters) => {
  const parts = Object.entries(filters || {}).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
  return parts.length ? parts.join('; ') : 'none';
};

const STATE_TEXT = /** @type {Record<string, [string, string]>} */ ({
  sending: ['sending', 'muted'],
  retrying: ['retrying', 'warn'],
  delivered: ['delivered', 'ok'],
  gave_up: ['gave up', 'bad'],
  gone: ['gone (410)', 'bad'],
  cancelled: ['cancelled', 'muted'],
  blocked: ['blocked', 'bad'],
});

/** @param {{state: string}} props */
function StatePill({ state }) {
  const [text, cls] = STATE_TEXT[state] || [state, 'muted'];
  return html`<span class=${`pill ${cls}`}>${text}</span>`;
}

/** @param {{verification?: {ok: boolean, reason?: string}}} props */
function Verified({ verification }) {
  if (!verification) return html`<span class="muted">not caught here</span>`;
  return verification.ok
    ? html`<span class="ok verification">verified</span>`
    : html`<span class="bad verification">rejected: ${verification.reason}</span>`;
}

/** @param {any} attempt */
function attemptSummary(attempt) {
  if (!attempt) return '';
  const what = attempt.status !== undefined ? String(attempt.status) : attempt.outcome || 'in flight';
  return what;
}

function Subscriptions({ subscriptions }) {
  return html`<section aria-labelledby="subs-h">
    <h2 id="subs-h">Subscriptions</h2>
    <div class="body">
      ${subscriptions.length === 0
        ? html`<p class="muted">No subscriptions yet. Subscribe the catch endpoint, or subscribe your own receiver with <code>POST /v1/notifications</code>.</p>`
        : html`<table class="subscriptions">
            <thead><tr><th scope="col">Event</th><th scope="col">URI</th><th scope="col">Filters</th><th scope="col">Id</th></tr></thead>
            <tbody>
              ${subscriptions.map(
                (s) => html`<tr key=${s.id} class="subscription">
                  <td>${s.event}</td>
                  <td class="mono sandbox-uri">${s.uri}${s.catch ? html` <span class="pill ok">catch endpoint</span>` : ''}</td>
                  <td>${filterText(s.filters)}</td>
                  <td class="mono">${s.id}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    </div>
  </section>`;
}

function CatchEndpoint({ state }) {
  const [message, setMessage] = useState({ text: '', cls: '' });
  const [busy, setBusy] = useState(false);
  const subscribed = new Set(state.subscriptions.filter((s) => s.catch).map((s) => s.event));
  const all = state.events.every((e) => subscribed.has(e));
  const subscribe = async () => {
    setBusy(true);
    try {
      const answer = await post('/console/api/catch', {});
      if (answer.status === 200) setMessage({ text: `Subscribed to all six events (${answer.json.subscriptions.length} subscriptions).`, cls: 'ok' });
      else setMessage({ text: `Could not subscribe: ${refusal(answer)}`, cls: 'bad' });
    } catch {
      setMessage({ text: 'Could not reach the sandbox.', cls: 'bad' });
    } finally {
      setBusy(false);
    }
  };
  const recent = state.caught.slice(-8).reverse();
  return html`<section aria-labelledby="catch-h">
    <h2 id="catch-h">Catch endpoint</h2>
    <div class="body">
      <p>The sandbox receives deliveries here itself and verifies each signature with the subscription's secret, as your receiver should.</p>
      <p><code class="catch-url">${state.catch_url}</code></p>
      <div class="row">
        <button type="button" class="subscribe-catch" onClick=${subscribe} disabled=${busy || all}>
          ${all ? 'Subscribed to all six events' : 'Subscribe the catch endpoint to all six events'}
        </button>
      </div>
      <p role="status" class=${`catch-status ${message.cls}`}>${message.text}</p>
      ${recent.length > 0
        ? html`<table class="caught">
            <caption class="muted">Latest requests received</caption>
            <thead><tr><th scope="col">Time</th><th scope="col">webhook-id</th><th scope="col">Result</th></tr></thead>
            <tbody>
              ${recent.map(
                (c, i) => html`<tr key=${i}>
                  <td>${clock(c.at)}</td>
                  <td class="mono">${c.webhookId || '(none)'}</td>
                  <td><${Verified} verification=${c.verification} /></td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : ''}
    </div>
  </section>`;
}

function FireForm({ events }) {
  const [event, setEvent] = useState('RequestQuote:Create');
  const [count, setCount] = useState('1');
  const [data, setData] = useState('');
  const [message, setMessage] = useState({ text: '', cls: '' });
  const [busy, setBusy] = useState(false);
  /** @param {Event} e */
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setMessage({ text: '', cls: '' });
    try {
      const body = { event, count: count.trim() === '' ? undefined : Number(count), data };
      const proxied = await post('/console/api/fire', body);
      // The console reports the API's own answer; a refusal of the console route itself is its own.
      const answer = proxied.status === 200 ? { status: proxied.json.api_status, json: proxied.json.api_body } : proxied;
      if (answer.status === 202) {
        const n = answer.json.event_ids.length;
        setMessage({ text: `Fired ${n} ${event} event${n === 1 ? '' : 's'}; ${answer.json.deliveries} deliveries queued.`, cls: 'ok' });
      } else {
        setMessage({ text: `The sandbox refused it: ${refusal(answer)}`, cls: 'bad fire-error' });
      }
    } catch {
      setMessage({ text: 'Could not reach the sandbox.', cls: 'bad fire-error' });
    } finally {
      setBusy(false);
    }
  };
  return html`<section aria-labelledby="fire-h">
    <h2 id="fire-h">Fire an event</h2>
    <form class="body fire" onSubmit=${submit}>
      <div class="row">
        <label>Event
          <select name="event" value=${event} onChange=${(e) => setEvent(e.currentTarget.value)}>
            ${events.map((name) => html`<option key=${name} value=${name}>${name}</option>`)}
          </select>
        </label>
        <label>Count
          <input name="count" type="number" min="1" value=${count} onInput=${(e) => setCount(e.currentTarget.value)} />
        </label>
        <button type="submit" class="fire" disabled=${busy}>Fire</button>
      </div>
      <label class="sandbox-wide">Data (optional JSON object, checked by the API: fields of the event to set)
        <textarea name="data" placeholder='{"action": "solar_pv"}' value=${data} onInput=${(e) => setData(e.currentTarget.value)}></textarea>
      </label>
      <p role="status" class=${`fire-status ${message.cls}`}>${message.text}</p>
    </form>
  </section>`;
}

function Timeline({ state, selected, onSelect }) {
  const events = state.timeline.slice().reverse().slice(0, 50);
  return html`<section aria-labelledby="timeline-h">
    <h2 id="timeline-h">Live timeline <span class="muted">(newest first)</span></h2>
    <div class="body">
      ${events.length === 0
        ? html`<p class="muted">Nothing fired yet: use the form above, or <code>POST /sandbox/events</code>.</p>`
        : html`<table class="timeline">
            <thead>
              <tr>
                <th scope="col">Event / subscription</th><th scope="col">State</th><th scope="col">Attempt</th><th scope="col">Answer</th>
                <th scope="col">Latency</th><th scope="col">Next retry</th><th scope="col">Signature check</th><th scope="col"><span class="sandbox-hidden">Select</span></th>
              </tr>
            </thead>
            ${events.map(
              (ev) => html`<tbody key=${ev.eventId} class="event" data-event-id=${ev.eventId}>
                <tr class="event-row sandbox-event">
                  <th scope="rowgroup" colspan="8">
                    ${ev.event} <span class="mono muted">${ev.eventId}</span> <span class="muted">fired ${clock(ev.firedAt)}</span>
                    ${ev.deliveries.length === 0 ? html` <span class="muted">· no subscription took it</span>` : ''}
                  </th>
                </tr>
                ${ev.deliveries
                  .map((id) => state.deliveryMap[id])
                  .filter(Boolean)
                  .map((d) => {
                    const last = d.attempts[d.attempts.length - 1];
                    return html`<tr key=${d.id} class=${`delivery ${selected === d.id ? 'selected' : ''}`} data-delivery-id=${d.id} data-state=${d.state}>
                      <td><span class="mono">${d.subscriptionId}</span>${d.redeliveryOf ? html` <span class="pill muted">redelivery</span>` : ''}<br /><span class="mono muted">${d.uri}</span></td>
                      <td><${StatePill} state=${d.state} /></td>
                      <td>${last ? last.attempt : ''}</td>
                      <td>${attemptSummary(last)}</td>
                      <td>${last && last.latencyMs !== undefined ? `${last.latencyMs} ms` : ''}</td>
                      <td>${last && last.retryAt && d.state === 'retrying' ? clock(last.retryAt) : ''}</td>
                      <td><${Verified} verification=${last && last.verification} /></td>
                      <td><button type="button" class="secondary select" aria-label=${`Show delivery ${d.id}`} onClick=${() => onSelect(d.id)}>Show</button></td>
                    </tr>`;
                  })}
              </tbody>`,
            )}
          </table>`}
    </div>
  </section>`;
}

function Detail({ id, version }) {
  const [detail, setDetail] = useState(/** @type {any} */ (null));
  const [message, setMessage] = useState({ text: '', cls: '' });
  useEffect(() => {
    let live = true;
    fetch(`/console/api/deliveries/${encodeURIComponent(id)}`)
      .then((res) => res.json())
      .then((json) => {
        if (live) setDetail(json);
      })
      .catch(() => {
        if (live) setMessage({ text: 'Could not load the delivery.', cls: 'bad' });
      });
    return () => {
      live = false;
    };
  }, [id, version]);
  const redeliver = async () => {
    try {
      const answer = await post('/console/api/redeliver', { delivery_id: id });
      if (answer.status === 202) setMessage({ text: `Redelivery ${answer.json.delivery_id} queued: same webhook-id, fresh timestamp and signature.`, cls: 'ok' });
      else setMessage({ text: `Could not redeliver: ${refusal(answer)}`, cls: 'bad' });
    } catch {
      setMessage({ text: 'Could not reach the sandbox.', cls: 'bad' });
    }
  };
  if (!detail || !detail.delivery) return html`<section aria-labelledby="detail-h"><h2 id="detail-h">Delivery ${id}</h2><div class="body"><p role="status" class=${message.cls}>${message.text || 'Loading…'}</p></div></section>`;
  const d = detail.delivery;
  return html`<section aria-labelledby="detail-h" class="detail" data-delivery-id=${d.id}>
    <h2 id="detail-h">Delivery ${d.id}: ${d.event} to ${d.subscriptionId}</h2>
    <div class="body">
      <div class="row">
        <button type="button" class="redeliver" onClick=${redeliver}>Redeliver</button>
        <span class="muted">Sends the same event again: same <code>webhook-id</code>, fresh timestamp and signature.</span>
      </div>
      <p role="status" class=${`redeliver-status ${message.cls}`}>${message.text}</p>
      <h3 class="sandbox-h3">Every send of this event to this subscription</h3>
      ${detail.sends.map(
        (s) => html`<div key=${`${s.delivery_id}#${s.attempt}`} class="send sandbox-send" data-delivery-id=${s.delivery_id} data-attempt=${s.attempt}>
          <p>
            <strong>${s.delivery_id}${s.redelivery ? ' (redelivery)' : ''}, attempt ${s.attempt}</strong>
            <span class="muted"> sent ${clock(s.sentAt)}</span> · answer ${attemptSummary(s)}
            ${s.latencyMs !== undefined ? ` · ${s.latencyMs} ms` : ''}
            ${s.retryAt ? ` · retry at ${clock(s.retryAt)}` : ''}${s.result ? ` · ${s.result.replace('_', ' ')}` : ''}
            ${' · '}<${Verified} verification=${s.verification} />
          </p>
          ${s.headers
            ? html`<table class="headers">
                <caption class="sandbox-hidden">Request headers of ${s.delivery_id} attempt ${s.attempt}</caption>
                <tbody>
                  ${Object.entries(s.headers).map(
                    ([name, value]) => html`<tr key=${name}><th scope="row" class="mono">${name}</th><td class="mono" data-header=${name}>${value}</td></tr>`,
                  )}
                </tbody>
              </table>`
            : html`<p class="muted">Not sent (the sandbox only delivers to loopback http).</p>`}
        </div>`,
      )}
      <h3 class="sandbox-h3">Body</h3>
      ${detail.body === null
        ? html`<p class="muted">No longer stored.</p>`
        : html`<pre class="body-json" tabindex="0" aria-label="Delivery body">${JSON.stringify(JSON.parse(detail.body), null, 2)}</pre>`}
    </div>
  </section>`;
}

function App() {
  const [state, setState] = useState(/** @type {any} */ (null));
  const [live, setLive] = useState(false);
  const [selected, setSelected] = useState(/** @type {string | null} */ (null));
  useEffect(() => {
    const source = new EventSource('/console/stream');
    /** @param {(s: any, data: any) => any} update */
    const on = (name, update) =>
      source.addEventListener(name, (e) => {
        const data = JSON.parse(/** @type {MessageEvent} */ (e).data);
        setState((s) => (s ? update(s, data) : s));
      });
    source.addEventListener('snapshot', (e) => {
      const snap = JSON.parse(/** @type {MessageEvent} */ (e).data);
      const deliveryMap = {};
      for (const d of snap.deliveries) deliveryMap[d.id] = d;
      setState({ ...snap, deliveryMap });
    });
    on('subscriptions', (s, subscriptions) => ({ ...s, subscriptions }));
    on('event', (s, ev) => ({ ...s, timeline: [...s.timeline.filter((t) => t.eventId !== ev.eventId), ev].slice(-200) }));
    on('delivery', (s, d) => {
      const timeline = s.timeline.map((t) => (t.eventId === d.eventId && !t.deliveries.includes(d.id) ? { ...t, deliveries: [...t.deliveries, d.id] } : t));
      return { ...s, timeline, deliveryMap: { ...s.deliveryMap, [d.id]: d } };
    });
    on('caught', (s, c) => ({ ...s, caught: [...s.caught, c].slice(-100) }));
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(false);
    return () => source.close();
  }, []);
  if (!state) return html`<main><p role="status">Connecting to the sandbox…</p></main>`;
  // The detail reloads when a send of its event to its subscription changes, and only then.
  const chosen = selected ? state.deliveryMap[selected] : undefined;
  const version = chosen
    ? Object.values(state.deliveryMap)
        .filter((d) => d.eventId === chosen.eventId && d.subscriptionId === chosen.subscriptionId)
        .map((d) => `${d.id}:${d.attempts.map((a) => [a.attempt, a.status, a.outcome, a.verification && a.verification.ok, a.sentAt].join(',')).join(';')}`)
        .join('|')
    : '';
  return html`
    <header class="bar">
      <h1>Ecologic sandbox console</h1>
      <span class="meta">${state.signing ? 'Deliveries signed (Standard Webhooks)' : 'Deliveries unsigned'}</span>
      <span class=${`meta live-status ${live ? 'ok' : 'bad'}`} role="status">${live ? 'Live' : 'Reconnecting…'}</span>
    </header>
    <main>
      <div class="grid-2">
        <${Subscriptions} subscriptions=${state.subscriptions} />
        <${CatchEndpoint} state=${state} />
      </div>
      <${FireForm} events=${state.events} />
      <${Timeline} state=${state} selected=${selected} onSelect=${setSelected} />
      ${selected ? html`<${Detail} id=${selected} version=${version} />` : ''}
    </main>
  `;
}

render(html`<${App} />`, root);
