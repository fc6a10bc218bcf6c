import type { Row, Summary } from "./report.js";

const ROW_HEIGHT = 22;
const LABEL_WIDTH = 400;
const BAR_WIDTH = 320;

/** A bar chart of each row's ratio to its baseline (higher is better), for the README. */
export function renderSvg(summary: Summary): string {
  const metrics: { title: string; value: (r: Row) => number | undefined }[] = [
    { title: "Round trip: baseline p50 / p50", value: (r) => r.vsBaseline.rtt },
    { title: "Small messages one way: msgs/s / baseline's", value: (r) => r.vsBaseline.small },
    { title: "1 MiB messages one way: MB/s / baseline's", value: (r) => r.vsBaseline.large },
  ];
  const parts: string[] = [];
  let y = 20;
  for (const metric of metrics) {
    const rows = summary.rows.filter((row) => metric.value(row) !== undefined && row.baseline !== row.id);
    parts.push(
      `<text x="10" y="${y}" font-weight="bold">${escapeXml(metric.title)} (1 = the row's baseline)</text>`,
    );
    y += 8;
    const max = Math.max(1, ...rows.map((row) => metric.value(row)!));
    for (const row of rows) {
      y += ROW_HEIGHT;
      const ratio = metric.value(row)!;
      const width = Math.max(1, (ratio / max) * BAR_WIDTH);
      parts.push(`<text x="10" y="${y}">${escapeXml(row.label)}</text>`);
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y - 14}" width="${width.toFixed(1)}" height="16" fill="${ratio >= 1 ? "#3b82f6" : "#f59e0b"}"/>`,
      );
      parts.push(`<text x="${LABEL_WIDTH + width + 6}" y="${y}">${ratio.toFixed(2)}×</text>`);
    }
    y += 30;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL_WIDTH + BAR_WIDTH + 80}" height="${y}" font-family="sans-serif" font-size="13" role="img">\n<title>@ipc benchmark: each row's ratio to its baseline</title>\n${parts.join("\n")}\n</svg>\n`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
