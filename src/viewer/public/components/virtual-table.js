// A table body that holds only the rows in view plus an overscan, all of one fixed height:
// spacer rows stand for the rest and a sizer gives the scrollbar the height of every row.
// One row is the table's tab stop; the arrow keys, Page Up/Down, Home and End move it and
// scroll. The focused row stays in the DOM when scrolled away, so the focus is never dropped,
// and when rows are inserted above the view (new jobs) the view keeps its place.
import { el } from '../util.js';

export class VirtualTable {
  /**
   * viewport: the scrolling element around `table`; rowHeight: px, as the CSS draws rows.
   * source: count(), keyOf(i) (a row's identity: the same job keeps its element), indexOfKey(key)
   * (-1 when gone), create() -> tr, fill(tr, i), open(i) (Enter), onRange(first, last).
   */
  constructor({ viewport, table, rowHeight, overscan = 10, columns, source }) {
    Object.assign(this, { viewport, table, rowHeight, overscan, columns, source });
    this.tbody = table.tBodies[0];
    this.sizer = el('div', { class: 'vt-sizer', 'aria-hidden': 'true' });
    viewport.prepend(this.sizer);
    this.byKey = new Map(); // key -> tr, the rows in the DOM
    this.spacers = [];
    this.activeKey = null; // the row holding the tab stop
    this.activeIndex = 0;
    this.anchor = null; // { key, index } of the first row in view at the last render
    this.frame = 0;
    viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.tbody.addEventListener('keydown', (e) => this.onKey(e));
    this.tbody.addEventListener('focusin', (e) => {
      const tr = e.target.closest('tr');
      if (tr?.dataset.key) { this.activeKey = tr.dataset.key; this.activeIndex = Number(tr.dataset.index); }
    });
    this.resizeObserver = new ResizeObserver(() => this.schedule());
    this.resizeObserver.observe(viewport);
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  /** Back to the top with no active row (a new list). */
  reset() {
    this.activeKey = null;
    this.anchor = null;
    this.viewport.scrollTop = 0;
    this.schedule();
  }

  /** The rows in view (not the overscan): [first, last], last < first when empty. */
  visible() {
    const n = this.source.count();
    const head = this.table.tHead?.offsetHeight ?? 0;
    const top = this.viewport.scrollTop;
    const first = Math.min(n, Math.floor(top / this.rowHeight));
    const last = Math.min(n - 1, Math.ceil((top + this.viewport.clientHeight - head) / this.rowHeight) - 1);
    return [first, last];
  }

  render() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const s = this.source;
    const n = s.count();
    this.sizer.style.height = `${(this.table.tHead?.offsetHeight ?? 0) + n * this.rowHeight}px`;
    this.keepAnchor();
    const [vFirst, vLast] = this.visible();
    const first = Math.max(0, vFirst - this.overscan);
    const last = Math.min(n - 1, vLast + this.overscan);
    const focused = this.tbody.contains(document.activeElement) ? document.activeElement.closest('tr') : null;
    const active = this.resolveActive(n, first, last, vFirst, focused);
    const indices = [];
    for (let i = first; i <= last; i++) indices.push(i);
    // the focused row, scrolled away, stays (in its place among the rows, after a spacer)
    if (active >= 0 && focused && (active < first || active > last)) {
      if (active < first) indices.unshift(active);
      else indices.push(active);
    }
    const rows = this.assign(indices, focused, active);
    this.place(indices, rows);
    this.table.setAttribute('aria-rowcount', String(n + 1));
    this.anchor = vFirst > 0 && vFirst < n ? { key: s.keyOf(vFirst), index: vFirst } : null;
    s.onRange(first, last);
  }

  /** Rows inserted or removed above the first row in view move the view with that row. */
  keepAnchor() {
    if (!this.anchor) return;
    const now = this.source.indexOfKey(this.anchor.key);
    if (now >= 0 && now !== this.anchor.index) this.viewport.scrollTop += (now - this.anchor.index) * this.rowHeight;
  }

  /** The active row: its job's new place; if it is not focused and out of view, the first row in view. */
  resolveActive(n, first, last, vFirst, focused) {
    if (n === 0) { this.activeKey = null; return -1; }
    let i = this.activeKey === null ? -1 : this.source.indexOfKey(this.activeKey);
    const holdsFocus = focused !== null && focused.dataset.key === this.activeKey;
    if (i < 0) i = holdsFocus ? Math.min(this.activeIndex, n - 1) : vFirst; // its job left the list
    if (!holdsFocus && (i < first || i > last)) i = Math.min(vFirst, n - 1);
    this.activeIndex = i;
    this.activeKey = this.source.keyOf(i);
    return i;
  }

  /** An element for each index: a row keeps its element while its key is in view. */
  assign(indices, focused, active) {
    const s = this.source;
    const keys = indices.map((i) => s.keyOf(i));
    const wanted = new Set(keys);
    const free = [];
    for (const [key, tr] of this.byKey) {
      if (wanted.has(key)) continue;
      this.byKey.delete(key);
      // a focused placeholder whose job has come keeps its element, and so the focus
      if (tr === focused && active >= 0 && !this.byKey.has(this.activeKey) && wanted.has(this.activeKey)) this.byKey.set(this.activeKey, tr);
      else free.push(tr);
    }
    const rows = indices.map((i, j) => {
      let tr = this.byKey.get(keys[j]);
      if (!tr) { tr = free.pop() ?? s.create(); this.byKey.set(keys[j], tr); }
      s.fill(tr, i);
      tr.dataset.key = keys[j];
      tr.dataset.index = String(i);
      tr.setAttribute('aria-rowindex', String(i + 2)); // the header is row 1
      tr.tabIndex = i === active ? 0 : -1;
      return tr;
    });
    for (const tr of free) tr.remove();
    return rows;
  }

  /** The body's children in order, a spacer for each run of rows left out; moves only what is out of place. */
  place(indices, rows) {
    const want = [];
    let prev = -1;
    let spacerCount = 0;
    indices.forEach((i, j) => {
      if (i > prev + 1) want.push(this.spacer(spacerCount++, i - prev - 1));
      want.push(rows[j]);
      prev = i;
    });
    for (const sp of this.spacers.splice(spacerCount)) sp.remove();
    const keep = new Set(want);
    for (const child of [...this.tbody.children]) if (!keep.has(child)) child.remove();
    want.forEach((node, j) => {
      if (this.tbody.children[j] !== node) this.tbody.insertBefore(node, this.tbody.children[j] ?? null);
    });
  }

  spacer(k, rows) {
    if (!this.spacers[k]) this.spacers[k] = el('tr', { class: 'vt-spacer', 'aria-hidden': 'true' }, el('td', { colspan: this.columns }));
    this.spacers[k].firstChild.style.height = `${rows * this.rowHeight}px`;
    return this.spacers[k];
  }

  onKey(e) {
    const tr = e.target;
    if (tr.tagName !== 'TR' || !tr.dataset.key) return;
    const i = Number(tr.dataset.index);
    const [vFirst, vLast] = this.visible();
    const page = Math.max(1, vLast - vFirst);
    const to = { ArrowDown: i + 1, ArrowUp: i - 1, PageDown: i + page, PageUp: i - page, Home: 0, End: this.source.count() - 1 }[e.key];
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.source.open(i); return; }
    if (to === undefined || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    this.focusIndex(Math.max(0, Math.min(this.source.count() - 1, to)));
  }

  /** Scrolls row i into view, makes it the active row and focuses it. */
  focusIndex(i) {
    const head = this.table.tHead?.offsetHeight ?? 0;
    const vp = this.viewport;
    const top = i * this.rowHeight; // the scrollTop that shows row i first, under the sticky header
    if (vp.scrollTop > top) vp.scrollTop = top;
    else if (vp.scrollTop < top + this.rowHeight + head - vp.clientHeight) vp.scrollTop = top + this.rowHeight + head - vp.clientHeight;
    this.activeIndex = i;
    this.activeKey = this.source.keyOf(i);
    this.anchor = null; // the scroll is ours, not rows inserted above
    this.render();
    this.byKey.get(this.activeKey)?.focus({ preventScroll: true });
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
  }
}
