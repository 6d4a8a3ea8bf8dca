// The interactive chart: Apache ECharts, tree-shaken to the three chart kinds and the parts
// they use, in a chunk of its own that a page loads when it first shows a chart.
import { useEffect, useRef } from "react";
import * as echarts from "echarts/core";
import { BarChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer, SVGRenderer } from "echarts/renderers";
import type { EChartsCoreOption } from "echarts/core";
import type { Schemas } from "./api/client";
import { formatValue } from "./components";

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer, SVGRenderer]);

export type ChartView = Schemas["ChartView"];
export type ChartKind = "bar" | "stacked" | "line" | "area" | "pie";

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** The ECharts option of a chart view drawn as `kind`. */
function option(view: ChartView, kind: ChartKind, forExport = false): EChartsCoreOption {
  const text = forExport ? "#1c2024" : cssVar("--text", "#1c2024");
  const muted = forExport ? "#60646c" : cssVar("--muted", "#60646c");
  const unit = view.measure.unit;
  const names = view.data.map((r) => String(r.name));
  const fmt = (v: unknown) => formatValue(Number(v ?? 0), unit);
  const grouped = view.series.length > 0;
  const base = {
    animation: !forExport,
    textStyle: { color: text },
    tooltip: { trigger: kind === "pie" ? "item" : "axis", valueFormatter: fmt },
    legend: grouped || kind === "pie" ? { type: "scroll", bottom: 0, textStyle: { color: muted } } : undefined,
  };
  if (kind === "pie") {
    return {
      ...base,
      series: [
        {
          type: "pie",
          radius: ["40%", "70%"],
          data: view.data.map((r) => ({ name: String(r.name), value: Number(r.count) })),
          label: { color: text, overflow: "truncate", width: 120 },
        },
      ],
    };
  }
  const seriesType = kind === "line" || kind === "area" ? "line" : "bar";
  const stack = kind === "stacked" || kind === "area" ? "total" : undefined;
  const rows = grouped
    ? view.series.map((s) => ({
        name: s.name,
        type: seriesType,
        stack,
        areaStyle: kind === "area" ? {} : undefined,
        data: view.data.map((r) => Number(r[s.key] ?? 0)),
      }))
    : [
        {
          name: view.measure.name,
          type: seriesType,
          areaStyle: kind === "area" ? {} : undefined,
          data: view.data.map((r) => Number(r.count)),
        },
      ];
  // Many or long names: rotated and cut short, never overlapping.
  const rotate = names.length > 8 || names.some((n) => n.length > 14) ? 35 : 0;
  return {
    ...base,
    grid: { left: 56, right: 16, top: 24, bottom: grouped ? 72 : 48, containLabel: true },
    xAxis: {
      type: "category",
      data: names,
      axisLabel: { color: muted, rotate, overflow: "truncate", width: 110, interval: "auto" },
    },
    yAxis: { type: "value", axisLabel: { color: muted, formatter: fmt }, splitLine: { lineStyle: { color: cssVar("--border", "#dfe1e6") } } },
    series: rows,
  };
}

/** An interactive chart of a chart view, with PNG and SVG export. */
export default function ChartBox({ view, kind, label, exportName }: { view: ChartView; kind: ChartKind; label: string; exportName?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, null, { renderer: "canvas" });
    chart.current = c;
    const resize = () => c.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      c.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option(view, kind), { notMerge: true });
  }, [view, kind]);
  const save = (href: string, ext: string) => {
    const a = document.createElement("a");
    a.href = href;
    a.download = `${exportName ?? "chart"}.${ext}`;
    a.click();
  };
  const png = () => {
    const url = chart.current?.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#ffffff" });
    if (url) save(url, "png");
  };
  const svg = () => {
    // A second, server-side-style instance draws the SVG with export colours.
    const c = echarts.init(null, null, { renderer: "svg", ssr: true, width: 960, height: 480 });
    c.setOption(option(view, kind, true));
    const blob = new Blob([c.renderToSVGString()], { type: "image/svg+xml" });
    c.dispose();
    const url = URL.createObjectURL(blob);
    save(url, "svg");
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <figure className="chart-box">
      <div ref={el} className="chart-canvas" role="img" aria-label={label} data-testid="chart" />
      <figcaption className="chart-actions">
        <button type="button" className="secondary" onClick={png}>
          PNG
        </button>
        <button type="button" className="secondary" onClick={svg}>
          SVG
        </button>
      </figcaption>
    </figure>
  );
}
