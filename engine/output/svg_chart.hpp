// A small writer of time-series line charts as inline SVG, for the HTML report: axes with "nice"
// ticks and unit-formatted labels, a legend, series told apart by colour AND dash pattern (so they
// survive a black-and-white print), and shaded, labelled bands (fault windows, the warm-up).
//
// Everything is deterministic: coordinates are printed with a fixed precision, and long series
// are thinned by min/max buckets (downsample_min_max) so that a spike in one window still shows.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "output/xml_escape.hpp"

namespace dsim {

// How axis values are written: seconds ("250ms", "2m"), per second ("900/s", "12k/s"), plain
// numbers, or fractions as percentages.
enum class AxisFormat { seconds, rate, count, percent };

struct ChartSeries {
  std::string name;
  std::vector<double> x, y;  // same length; a NaN y leaves a gap in the line
  int colour = -1;           // index into the palette; -1: the series' position
  int dash = -1;             // index into the dash patterns; -1: the series' position
};

// A shaded span of x, labelled at its top: a fault's window (hatched) or the warm-up (grey).
struct ChartBand {
  double x0 = 0, x1 = 0;
  std::string label;
  bool fault = true;
};

struct LineChart {
  std::string id;  // unique within the page: prefixes the SVG's own ids (patterns)
  std::string title;
  std::string y_label;  // e.g. "requests per second"
  AxisFormat x_format = AxisFormat::seconds;
  AxisFormat y_format = AxisFormat::count;
  double x_min = 0, x_max = 1;  // the span shown (the run), whatever the series cover
  std::vector<ChartSeries> series;
  std::vector<ChartBand> bands;
};

// The chart as an <svg> element (scales to its container's width; viewBox width x height for the
// plot, plus room for the legend below it).
std::string render_svg(const LineChart& chart, int width = 880, int plot_height = 260);

// Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `target`
// of them. The first tick is the first multiple of the step at or above lo.
std::vector<double> nice_ticks(double lo, double hi, int target);
// The same for a time axis in seconds: steps people read as durations (1s, 15s, 1m, 5m, 1h, 6h,
// 1d...), below a second the 1-2-5 steps.
std::vector<double> time_ticks(double lo, double hi, int target);
// The step nice_ticks would use: hi of a y axis is rounded up to a multiple of it.
double nice_step(double lo, double hi, int target);

// At most `max_points` points: the series is cut into max_points / 2 buckets of consecutive
// points and each bucket keeps its minimum and its maximum, in their original order. Spikes
// survive; a bucket with only NaNs keeps one NaN so a gap stays a gap.
void downsample_min_max(const std::vector<double>& x, const std::vector<double>& y,
                        size_t max_points, std::vector<double>& out_x, std::vector<double>& out_y);

// Labels for an axis's ticks, all in one unit chosen by the largest ("0, 250ms, 500ms" rather
// than "0s, 250ms, 500ms"; "0, 6h, 12h" rather than "0s, 60m, 2h"); zero is written "0".
std::vector<std::string> format_ticks(const std::vector<double>& ticks, AxisFormat f);

// A coordinate with one decimal, "C" locale (the byte-identical output depends on it).
std::string svg_number(double v);

// The palette (Okabe-Ito, safe for colour-blind readers) and dash patterns the charts cycle
// through; the report's CSS and the topology diagram use the same colours.
const char* chart_colour(int i);
const char* chart_dash(int i);  // "" for solid

}  // namespace dsim
