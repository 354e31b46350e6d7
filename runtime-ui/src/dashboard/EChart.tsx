/**
 * An ECharts canvas, in its own chunk: only `echarts/core` with the charts and components dashboards use
 * (bar, line, pie, funnel, gauge), so neither the list nor the login ever load it. Resizes with its box;
 * a click on a data point reports the point (with its records' filter).
 */
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, FunnelChart, GaugeChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, PieChart, FunnelChart, GaugeChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

// The product's blue first, then colours that stay apart for the colour-blind.
const PALETTE = ['#1f5fbf', '#f0a020', '#3ba272', '#9a60b4', '#ea7ccc', '#73c0de', '#fc8452', '#5470c6', '#91cc75'];

export default function EChart({ option, onPick, label }: { option: Record<string, unknown>; onPick?(point: any): void; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    const c = echarts.init(box.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (p: any) => pick.current?.(p.data));
    const observer = new ResizeObserver(() => c.resize());
    observer.observe(box.current!);
    return () => {
      observer.disconnect();
      c.dispose();
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption({ color: PALETTE, textStyle: { fontFamily: 'inherit' }, ...option }, true);
  }, [option]);

  return <div ref={box} role="img" aria-label={label} style={{ width: '100%', height: '100%', minHeight: 180, cursor: onPick ? 'pointer' : undefined }} />;
}
