import type { Result } from "./run.js";

const ROW_HEIGHT = 22;
const LABEL_WIDTH = 290;
const BAR_WIDTH = 360;

/** A bar chart of each metric as a ratio to the baseline (higher is better), for the README. */
export function renderSvg(results: Result[], baselineId: string): string {
  const baseline = results.find((result) => result.id === baselineId);
  const metrics: { title: string; value: (r: Result) => number | undefined }[] = [
    { title: "Round trip, speed-up (baseline p50 / p50)", value: (r) => inverse(r.rttP50Us) },
    { title: "Small messages per second", value: (r) => r.smallPerSecond },
    { title: "1 MiB payload bandwidth", value: (r) => r.bandwidthBytesPerSecond },
  ];
  const parts: string[] = [];
  let y = 20;
  for (const metric of metrics) {
    parts.push(
      `<text x="10" y="${y}" font-weight="bold">${escapeXml(metric.title)}, ratio to ${escapeXml(baseline?.label ?? "")}</text>`,
    );
    y += 8;
    const base = baseline ? metric.value(baseline) : undefined;
    const ratios = results.map((r) => (base ? (metric.value(r) ?? 0) / base : 0));
    const max = Math.max(1, ...ratios);
    results.forEach((result, i) => {
      y += ROW_HEIGHT;
      const width = Math.max(1, (ratios[i]! / max) * BAR_WIDTH);
      parts.push(`<text x="10" y="${y}">${escapeXml(result.label)}</text>`);
      if (!ratios[i]) {
        parts.push(`<text x="${LABEL_WIDTH}" y="${y}">not measured</text>`);
        return;
      }
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y - 14}" width="${width.toFixed(1)}" height="16" fill="#3b82f6"/>`,
      );
      parts.push(`<text x="${LABEL_WIDTH + width + 6}" y="${y}">${ratios[i]!.toFixed(2)}×</text>`);
    });
    y += 30;
  }
  const height = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL_WIDTH + BAR_WIDTH + 80}" height="${height}" font-family="sans-serif" font-size="13">\n${parts.join("\n")}\n</svg>\n`;
}

function inverse(value: number | undefined): number | undefined {
  return value ? 1 / value : undefined;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
