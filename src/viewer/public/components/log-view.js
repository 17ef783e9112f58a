// The log panel of a job: a virtualised list (only the rows on screen plus a small overscan
// exist in the DOM; fixed row height), appended in batches once per animation frame, that
// follows the tail until the user scrolls up; source and rank filters (srun --label ranks,
// each in its own colour, the colours of the metric charts), find-in-log with <mark>ed
// matches (Enter / Shift+Enter, or n / N in the log), jump to the first error, download.
import { el, setText, formatClock, formatNumber, debounce, isFinal } from '../util.js';
import { LogStore, LogView as FilteredView, LogSearch } from './log-store.js';
import { getBlob } from '../api.js';

export const ROW_HEIGHT = 18; // px; matches .log-row in viewer.css
const OVERSCAN = 20;

export class LogPanel {
  constructor({ jobId, downloadHref }) {
    this.store = new LogStore();
    this.view = new FilteredView(this.store);
    this.search = new LogSearch(this.view);
    this.pending = [];
    this.frame = 0;
    this.following = true;
    this.unseen = 0;
    this.flash = -1; // store index of a line to emphasise (first error)
    this.jumpTop = -1; // scrollTop where the last jump (match, first error) left the viewport
    this.renderKey = 0; // bumped when every visible row must be redrawn
    this.pool = [];
    this.state = '';

    const id = `log-${jobId}`;
    this.sourceSelect = el('select', { id: `${id}-source` }, el('option', { value: '' }, 'All sources'));
    this.rankSelect = el('select', { id: `${id}-rank` }, el('option', { value: '-1' }, 'All ranks'));
    this.rankField = el('div', { class: 'field', hidden: true }, el('label', { for: `${id}-rank` }, 'Rank'), this.rankSelect);
    // a requeued job's runs (node failure, preemption, scontrol requeue), each kept apart
    this.runSelect = el('select', { id: `${id}-run` }, el('option', { value: '-1' }, 'All runs'));
    this.runField = el('div', { class: 'field', hidden: true }, el('label', { for: `${id}-run` }, 'Run'), this.runSelect);
    this.searchInput = el('input', { id: `${id}-find`, type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: 'text in the log', 'aria-describedby': `${id}-matches` });
    this.matchStatus = el('span', { id: `${id}-matches`, class: 'match-status', role: 'status', 'aria-live': 'polite' }, '');
    this.prevButton = el('button', { type: 'button', class: 'secondary', title: 'Previous match (Shift+Enter)', disabled: true }, 'Previous');
    this.nextButton = el('button', { type: 'button', class: 'secondary', title: 'Next match (Enter)', disabled: true }, 'Next');
    this.errorButton = el('button', { type: 'button', class: 'secondary', disabled: true, title: 'The first stderr line, or the first line mentioning error, exception or traceback' }, 'First error');
    this.followButton = el('button', { type: 'button', class: 'follow', 'aria-pressed': 'true', title: 'Keep the newest line in view' }, 'Following');
    this.download = el('a', { class: 'button secondary', href: downloadHref, download: `job-${jobId}.log` }, 'Download');
    this.info = el('p', { class: 'log-info' }, 'Loading the log…');

    this.spacer = el('div', { class: 'log-spacer' });
    this.viewport = el('div', {
      class: 'log-viewport', tabindex: '0', role: 'region',
      'aria-label': `Log lines of job ${jobId}`, 'aria-describedby': `${id}-keys`,
    }, this.spacer);
    this.keys = el('p', { id: `${id}-keys`, class: 'visually-hidden' },
      'Arrow keys and Page Up/Down scroll, Home goes to the first line, End to the last and follows new lines, n and Shift+N move between matches, slash finds.');

    this.element = el('section', { class: 'log-panel', 'aria-labelledby': `${id}-h` },
      el('h3', { id: `${id}-h` }, 'Log'),
      el('div', { class: 'log-toolbar' },
        el('div', { class: 'field' }, el('label', { for: `${id}-source` }, 'Source'), this.sourceSelect),
        this.rankField,
        this.runField,
        el('div', { class: 'field find' }, el('label', { for: `${id}-find` }, 'Find'), this.searchInput),
        this.prevButton, this.nextButton, this.matchStatus,
        el('span', { class: 'spacer' }),
        this.errorButton, this.followButton, this.download),
      this.info, this.keys, this.viewport);

    this.download.addEventListener('click', (e) => { e.preventDefault(); this.saveLog(jobId); });
    this.sourceSelect.addEventListener('change', () => this.setSource(this.sourceSelect.value));
    this.rankSelect.addEventListener('change', () => this.setRank(Number(this.rankSelect.value)));
    this.runSelect.addEventListener('change', () => this.refilter(() => this.view.setRun(Number(this.runSelect.value))));
    this.searchInput.addEventListener('input', debounce(() => this.setTerm(this.searchInput.value, true), 120));
    this.searchInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.setTerm(this.searchInput.value, true); this.step(e.shiftKey ? -1 : 1); }
    });
    this.prevButton.addEventListener('click', () => this.step(-1));
    this.nextButton.addEventListener('click', () => this.step(1));
    this.errorButton.addEventListener('click', () => this.jumpToFirstError());
    this.followButton.addEventListener('click', () => (this.following ? this.setFollowing(false) : this.scrollToEnd()));
    this.viewport.addEventListener('scroll', () => {
      const atBottom = this.viewport.scrollTop + this.viewport.clientHeight >= this.viewport.scrollHeight - ROW_HEIGHT;
      // A jump to a line near the end lands at the bottom: that scroll is ours, not the user
      // going back to the tail, so it must not resume following. Any other position ends it.
      const jumped = this.viewport.scrollTop === this.jumpTop;
      if (!jumped) this.jumpTop = -1;
      if (atBottom !== this.following && !(atBottom && jumped)) this.setFollowing(atBottom);
      this.schedule();
    }, { passive: true });
    this.viewport.addEventListener('keydown', (e) => {
      if (e.key === 'End' && !e.ctrlKey) { e.preventDefault(); this.scrollToEnd(); }
      else if (e.key === 'Home') { e.preventDefault(); this.setFollowing(false); this.viewport.scrollTop = 0; }
      else if (e.key === 'n' && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); this.step(1); }
      else if (e.key === 'N' && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); this.step(-1); }
      else if (e.key === '/') { e.preventDefault(); this.searchInput.focus(); this.searchInput.select(); }
    });
    this.resizeObserver = new ResizeObserver(() => this.schedule());
    this.resizeObserver.observe(this.viewport);
  }

  /** Queues lines ({seq, time, source, line}) for the next frame. */
  append(lines) {
    if (!lines.length) return;
    this.pending.push(lines);
    this.schedule();
  }

  /** The job's state as the feed knows it ('' while unknown); `mode` says how lines arrive. */
  setState(state, mode) {
    this.state = state;
    this.mode = mode;
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    if (this.pending.length) {
      const batches = this.pending;
      this.pending = [];
      const sourcesBefore = this.store.sources.length;
      const ranksBefore = this.store.ranks.length;
      const runsBefore = this.store.runs.length;
      let added = 0;
      for (const b of batches) added += this.store.append(b);
      const start = this.view.sync();
      this.search.scan();
      if (!this.following) this.unseen += this.view.length - start;
      if (this.store.sources.length !== sourcesBefore) this.updateSources();
      if (this.store.ranks.length !== ranksBefore) this.updateRanks();
      if (this.store.runs.length !== runsBefore) this.updateRuns();
      if (added) this.updateInfo();
      if (this.store.firstError >= 0 && this.errorButton.disabled) this.errorButton.disabled = false;
    }
    this.spacer.style.height = `${this.view.length * ROW_HEIGHT}px`;
    if (this.following) this.viewport.scrollTop = this.viewport.scrollHeight;
    this.renderRows();
    this.updateInfo();
  }

  updateSources() {
    const current = this.sourceSelect.value;
    const opts = [el('option', { value: '' }, 'All sources'), ...this.store.sources.map((s) => el('option', { value: s }, s))];
    this.sourceSelect.replaceChildren(...opts);
    this.sourceSelect.value = current;
  }

  updateRanks() {
    const current = this.rankSelect.value;
    this.rankSelect.replaceChildren(el('option', { value: '-1' }, 'All ranks'), ...this.store.ranks.map((r) => el('option', { value: String(r) }, `Rank ${r}`)));
    this.rankSelect.value = current;
    this.rankField.hidden = this.store.ranks.length === 0;
  }

  updateRuns() {
    const current = this.runSelect.value;
    const label = (r) => (r === 0 ? 'Run 1 (first)' : `Run ${r + 1} (restart ${r})`);
    this.runSelect.replaceChildren(el('option', { value: '-1' }, 'All runs'), ...this.store.runs.map((r) => el('option', { value: String(r) }, label(r))));
    this.runSelect.value = current;
    this.runField.hidden = this.store.runs.length < 2;
  }

  updateInfo() {
    const s = this.store;
    const counts = s.sources.map((name, i) => `${name} ${formatNumber(s.counts[i])}`).join(' · ');
    const shown = this.view.idx ? `${formatNumber(this.view.length)} of ` : '';
    const live = this.state && isFinal(this.state)
      ? `job ended (${this.state}), every line loaded`
      : this.mode ? `live: ${this.mode}` : 'loading…';
    const paused = !this.following && this.unseen ? ` · ${formatNumber(this.unseen)} new below` : '';
    setText(this.info, `${shown}${formatNumber(s.length)} lines${counts ? ` (${counts})` : ''} · ${live}${paused}`);
    setText(this.followButton, this.following ? 'Following' : this.unseen ? `Follow (${formatNumber(this.unseen)} new)` : 'Follow');
  }

  renderRows() {
    const vp = this.viewport;
    const count = this.view.length;
    const first = Math.max(0, Math.floor(vp.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(count, Math.ceil((vp.scrollTop + vp.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    const needed = Math.max(0, last - first);
    while (this.pool.length < needed) {
      const row = el('div', { class: 'log-row' }, el('span', { class: 'ln' }), el('span', { class: 'ts' }), el('span', { class: 'src' }), el('span', { class: 'tx' }));
      row.dataset.k = '-1';
      this.pool.push(row);
      this.spacer.append(row);
    }
    while (this.pool.length > needed) this.pool.pop().remove();
    const currentHit = this.search.current >= 0 ? this.search.hits[this.search.current] : -1;
    for (let j = 0; j < needed; j++) this.fillRow(this.pool[j], first + j, currentHit);
  }

  fillRow(row, k, currentHit) {
    const i = this.view.at(k);
    const key = `${k}:${this.renderKey}:${k === currentHit}:${i === this.flash}`;
    if (row.dataset.key === key) return;
    row.dataset.key = key;
    const s = this.store;
    const source = s.source(i);
    row.style.top = `${k * ROW_HEIGHT}px`;
    const rank = s.rank.get(i);
    row.className = `log-row src-${source.replace(/[^A-Za-z0-9_-]/g, '_')}${rank >= 0 ? ` rank-c${rank % 8}` : ''}${k === currentHit ? ' current' : ''}${i === this.flash ? ' flash' : ''}`;
    row.dataset.seq = String(s.seq.get(i));
    const [ln, ts, src, tx] = row.children;
    ln.textContent = String(s.seq.get(i));
    ts.textContent = formatClock(s.time.get(i));
    src.textContent = source;
    const text = s.text[i];
    const re = this.search.re;
    if (!re || !this.search.hits.length) { tx.textContent = text; return; }
    // Matches become <mark> elements around text nodes: never parsed as HTML.
    const parts = [];
    let at = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m.index > at) parts.push(document.createTextNode(text.slice(at, m.index)));
      const mark = document.createElement('mark');
      mark.textContent = m[0];
      parts.push(mark);
      at = m.index + m[0].length;
      if (m[0].length === 0) re.lastIndex++;
    }
    if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
    tx.replaceChildren(...parts);
  }

  /** A plain link would go without the Authorization header: fetch the log, then save it. */
  async saveLog(jobId) {
    try {
      const url = URL.createObjectURL(await getBlob(`/jobs/${jobId}/logs.txt`));
      const a = el('a', { href: url, download: `job-${jobId}.log`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000); // the browser may still be reading it
    } catch (e) {
      setText(this.info, `Download failed: ${e.message}`);
    }
  }

  setSource(name) {
    this.refilter(() => this.view.setSource(name));
  }

  setRank(rank) {
    this.refilter(() => this.view.setRank(rank));
  }

  /** Applies a filter change, keeping the same place in the log when not following. */
  refilter(change) {
    const anchor = this.topStoreIndex();
    change();
    this.search.reset();
    this.unseen = 0;
    this.spacer.style.height = `${this.view.length * ROW_HEIGHT}px`;
    this.renderKey++;
    if (!this.following && anchor >= 0) {
      // keep the same place in the log: the first shown line at or after the old top line
      let k = this.view.positionOf(anchor);
      if (k < 0) { k = 0; while (k < this.view.length && this.view.at(k) < anchor) k++; }
      this.viewport.scrollTop = k * ROW_HEIGHT;
    }
    this.updateMatches();
    this.schedule();
  }

  topStoreIndex() {
    const k = Math.floor(this.viewport.scrollTop / ROW_HEIGHT);
    return k < this.view.length ? this.view.at(k) : -1;
  }

  setTerm(term, keepIfSame = false) {
    if (keepIfSame && term === this.search.term) return;
    this.search.setTerm(term);
    this.renderKey++;
    this.updateMatches();
    this.schedule();
  }

  updateMatches() {
    const n = this.search.hits.length;
    this.prevButton.disabled = this.nextButton.disabled = n === 0;
    if (!this.search.term) setText(this.matchStatus, '');
    else if (!n) setText(this.matchStatus, 'No match');
    else if (this.search.current < 0) setText(this.matchStatus, `${formatNumber(n)} matches`);
    else setText(this.matchStatus, `Match ${formatNumber(this.search.current + 1)} of ${formatNumber(n)}`);
  }

  step(dir) {
    // The first move goes from the top line in view; while following the tail, from the start.
    const from = this.following ? 0 : Math.floor(this.viewport.scrollTop / ROW_HEIGHT);
    const k = this.search.step(dir, from);
    if (k < 0) { this.updateMatches(); return; }
    this.scrollToRow(k);
    this.updateMatches();
    const i = this.view.at(k);
    this.matchStatus.title = `line ${this.store.seq.get(i)}: ${this.store.text[i]}`;
  }

  scrollToRow(k) {
    this.setFollowing(false);
    const vp = this.viewport;
    const top = k * ROW_HEIGHT;
    if (top < vp.scrollTop || top + ROW_HEIGHT > vp.scrollTop + vp.clientHeight) {
      vp.scrollTop = Math.max(0, top - vp.clientHeight / 2 + ROW_HEIGHT / 2);
    }
    this.jumpTop = vp.scrollTop; // as the browser clamped it
    this.schedule();
  }

  jumpToFirstError() {
    const i = this.store.firstError;
    if (i < 0) return;
    if (this.view.positionOf(i) < 0) {
      this.sourceSelect.value = '';
      this.rankSelect.value = '-1';
      this.runSelect.value = '-1';
      this.refilter(() => { this.view.setSource(''); this.view.setRank(-1); this.view.setRun(-1); });
    }
    this.flash = i;
    this.scrollToRow(this.view.positionOf(i));
    setText(this.matchStatus, `First error at line ${this.store.seq.get(i)} (${this.store.source(i)})`);
    this.viewport.focus({ preventScroll: true });
  }

  setFollowing(on) {
    this.following = on;
    if (on) this.unseen = 0;
    this.followButton.setAttribute('aria-pressed', String(on));
    this.updateInfo();
  }

  scrollToEnd() {
    this.setFollowing(true);
    this.viewport.scrollTop = this.viewport.scrollHeight;
    this.schedule();
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
  }
}
