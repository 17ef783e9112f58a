// A job's training metrics (GET /jobs/:id/metrics): one chart per metric name, one line per
// rank, against the step; fetched page by page from the last point seen, so a running job's
// curves grow as it prints them.
import { getJSON } from '../api.js';
import { el, setText } from '../util.js';
import { lineChart, seriesColour } from '../charts.js';

export class MetricCharts {
  constructor(jobId) {
    this.jobId = jobId;
    this.after = 0;
    /** name -> rank -> [{ x, y }] */
    this.byName = new Map();
    this.capped = false;
    this.charts = el('div', { class: 'chart-grid' });
    this.info = el('p', { class: 'muted' }, '');
    this.element = el('section', { 'aria-labelledby': 'metrics-h', hidden: true },
      el('h3', { id: 'metrics-h' }, 'Training metrics'), this.info, this.charts);
  }

  /** Reads every point printed since the last call; redraws when there were new ones. */
  async update() {
    let fresh = 0;
    for (;;) {
      const page = await getJSON(`/jobs/${this.jobId}/metrics?after=${this.after}`);
      for (const p of page.metrics) this.add(p);
      fresh += page.metrics.length;
      this.after = page.last_id;
      this.capped = page.capped;
      if (!page.more) break;
    }
    if (fresh > 0) this.render();
  }

  add(p) {
    let ranks = this.byName.get(p.name);
    if (!ranks) this.byName.set(p.name, (ranks = new Map()));
    let points = ranks.get(p.rank);
    if (!points) ranks.set(p.rank, (points = []));
    points.push({ x: p.step, y: p.value });
  }

  render() {
    this.element.hidden = false;
    const allRanks = [...new Set([...this.byName.values()].flatMap((r) => [...r.keys()]))].sort((a, b) => a - b);
    const points = [...this.byName.values()].reduce((n, r) => n + [...r.values()].reduce((m, p) => m + p.length, 0), 0);
    setText(this.info, `${points} points of ${this.byName.size} metric${this.byName.size === 1 ? '' : 's'} from ${allRanks.length} rank${allRanks.length === 1 ? '' : 's'}.` +
      (this.capped ? ' The job reached the most points GRM keeps per job (logs.maxMetricsPerJob): later ones are in its log only.' : ''));
    this.charts.replaceChildren(...[...this.byName].map(([name, ranks]) => lineChart({
      title: name,
      xLabel: 'step',
      yLabel: name,
      series: [...ranks].sort(([a], [b]) => a - b).map(([rank, pts]) => ({
        label: `rank ${rank}`,
        colour: seriesColour(rank), // as the rank's lines in the log
        points: [...pts].sort((a, b) => a.x - b.x),
      })),
    })));
  }
}
