import type { ReactNode } from 'react'

export interface Bar {
  label: string
  value: number
}

const BAR_HEIGHT = 22
const GAP = 6
const LABEL_WIDTH = 92
const VALUE_WIDTH = 44
const WIDTH = 360

/** Horizontal SVG bars: readable at any width (the SVG scales), no chart library. */
export function BarChart({ bars, title }: { bars: Bar[], title: string }): ReactNode {
  const max = Math.max(1, ...bars.map((b) => b.value))
  const plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
  const height = bars.length * (BAR_HEIGHT + GAP)
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${Math.max(height, BAR_HEIGHT)}`} role="img" aria-label={title} preserveAspectRatio="xMinYMin meet">
        {bars.map((bar, i) => {
          const y = i * (BAR_HEIGHT + GAP)
          const width = bar.value === 0 ? 0 : Math.max(2, (bar.value / max) * plot)
          return (
            <g key={bar.label} className="chart-row">
              <title>{`${bar.label}: ${bar.value}`}</title>
              <text x={LABEL_WIDTH - 6} y={y + BAR_HEIGHT / 2} textAnchor="end" dominantBaseline="central" className="chart-label">{bar.label}</text>
              <rect x={LABEL_WIDTH} y={y} width={plot} height={BAR_HEIGHT} className="chart-track" rx={3} />
              <rect x={LABEL_WIDTH} y={y} width={width} height={BAR_HEIGHT} className="chart-bar" rx={3} />
              <text x={LABEL_WIDTH + plot + 6} y={y + BAR_HEIGHT / 2} dominantBaseline="central" className="chart-value">{bar.value}</text>
            </g>
          )
        })}
      </svg>
    </figure>
  )
}
