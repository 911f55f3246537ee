#include "output/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/format.hpp"

namespace dsim {

// --- Text and numbers ----------------------------------------------------------------------

std::string svg_number(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s == "-0.0") s = "0.0";
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

const char* chart_colour(int i) {
  static constexpr const char* kColours[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                             "#e69f00", "#56b4e9", "#666666", "#8c564b"};
  constexpr int n = sizeof kColours / sizeof kColours[0];
  return kColours[((i % n) + n) % n];
}

const char* chart_dash(int i) {
  static constexpr const char* kDashes[] = {"", "7 4", "2 3", "9 3 2 3", "14 5", "3 6"};
  constexpr int n = sizeof kDashes / sizeof kDashes[0];
  return kDashes[((i % n) + n) % n];
}

std::vector<std::string> format_ticks(const std::vector<double>& ticks, AxisFormat f) {
  double largest = 0;
  for (double t : ticks) largest = std::max(largest, std::fabs(t));
  struct Unit {
    double below;  // the unit is used when the largest tick is below this
    double size;
    const char* suffix;
  };
  static constexpr Unit kTime[] = {
      {1e-6, 1e-9, "ns"},  {1e-3, 1e-6, "us"},     {1, 1e-3, "ms"},       {180, 1, "s"},
      {3 * 3600, 60, "m"}, {3 * 86400, 3600, "h"}, {INFINITY, 86400, "d"}};
  static constexpr Unit kRate[] = {{1e4, 1, "/s"}, {1e7, 1e3, "k/s"}, {INFINITY, 1e6, "M/s"}};
  static constexpr Unit kCount[] = {{1e5, 1, ""}, {1e8, 1e3, "k"}, {INFINITY, 1e6, "M"}};
  static constexpr Unit kPercent[] = {{INFINITY, 0.01, "%"}};
  const Unit* units = f == AxisFormat::seconds ? kTime
                      : f == AxisFormat::rate  ? kRate
                      : f == AxisFormat::count ? kCount
                                               : kPercent;
  while (largest >= units->below) ++units;
  std::vector<std::string> out;
  for (double t : ticks) {
    if (std::fabs(t) < 1e-12) {
      out.emplace_back("0");
      continue;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g%s", t / units->size, units->suffix);
    out.emplace_back(buf);
  }
  return out;
}

// --- Ticks ---------------------------------------------------------------------------------

double nice_step(double lo, double hi, int target) {
  const double range = hi - lo;
  if (!(range > 0) || target < 1) return 1;
  const double rough = range / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  const double norm = rough / magnitude;
  const double factor = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return factor * magnitude;
}

namespace {

std::vector<double> ticks_with_step(double lo, double hi, double step) {
  std::vector<double> out;
  const double first = std::ceil(lo / step - 1e-9);
  for (double k = first;; k += 1) {
    const double v = k * step;
    if (v > hi + step * 1e-9) break;
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    if (out.size() > 1000) break;  // (a guard; steps are chosen for ~10 ticks)
  }
  return out;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  return ticks_with_step(lo, hi, nice_step(lo, hi, target));
}

std::vector<double> time_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  if ((hi - lo) / std::max(target, 1) < 1) return nice_ticks(lo, hi, target);
  static constexpr double kSteps[] = {1,     2,     5,     10,    15,     30,    60,
                                      120,   300,   600,   900,   1800,   3600,  7200,
                                      10800, 21600, 43200, 86400, 172800, 604800};
  for (double step : kSteps) {
    if ((hi - lo) / step <= target) return ticks_with_step(lo, hi, step);
  }
  // Beyond weeks: a 1-2-5 number of days.
  const double days = nice_step(lo / 86400, hi / 86400, target);
  return ticks_with_step(lo, hi, days * 86400);
}

// --- Downsampling --------------------------------------------------------------------------

void downsample_min_max(const std::vector<double>& x, const std::vector<double>& y,
                        size_t max_points, std::vector<double>& out_x, std::vector<double>& out_y) {
  out_x.clear();
  out_y.clear();
  const size_t n = std::min(x.size(), y.size());
  if (n <= max_points || max_points < 2) {
    out_x.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
    out_y.assign(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n));
    return;
  }
  const size_t buckets = max_points / 2;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t begin = b * n / buckets, end = (b + 1) * n / buckets;
    size_t lo = n, hi = n;
    for (size_t i = begin; i < end; ++i) {
      if (std::isnan(y[i])) continue;
      if (lo == n || y[i] < y[lo]) lo = i;
      if (hi == n || y[i] > y[hi]) hi = i;
    }
    if (lo == n) {  // only gaps
      out_x.push_back(x[begin]);
      out_y.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const size_t first = std::min(lo, hi), second = std::max(lo, hi);
    out_x.push_back(x[first]);
    out_y.push_back(y[first]);
    if (second != first) {
      out_x.push_back(x[second]);
      out_y.push_back(y[second]);
    }
  }
}

// --- Rendering -----------------------------------------------------------------------------

namespace {

constexpr int kLeft = 72, kRight = 24, kTop = 30, kAxisBelow = 46;
constexpr int kLegendRow = 20;
constexpr size_t kMaxPoints = 2000;

// Rough width of a label in the chart's 12px font (no font metrics in a headless writer).
double text_width(const std::string& s) {
  return 6.8 * static_cast<double>(s.size());
}

struct LegendItem {
  std::string name;
  const char* colour;
  const char* dash;
  double x, y;
};

}  // namespace

std::string render_svg(const LineChart& c, int width, int plot_height) {
  const double pw = width - kLeft - kRight, ph = plot_height;
  const double x0 = c.x_min, x1 = c.x_max > c.x_min ? c.x_max : c.x_min + 1;

  // The y range: zero to the largest value, rounded up to a tick.
  double y_max = 0;
  for (const ChartSeries& s : c.series) {
    for (double v : s.y) {
      if (std::isfinite(v)) y_max = std::max(y_max, v);
    }
  }
  if (!(y_max > 0)) y_max = 1;  // an all-zero series still gets an axis
  const double ystep = nice_step(0, y_max, 5);
  y_max = std::ceil(y_max / ystep - 1e-9) * ystep;
  const std::vector<double> yticks = ticks_with_step(0, y_max, ystep);
  const std::vector<double> xticks = c.x_format == AxisFormat::seconds
                                         ? time_ticks(x0, x1, std::max(2, int(pw / 90)))
                                         : nice_ticks(x0, x1, std::max(2, int(pw / 90)));

  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return kTop + ph - y / y_max * ph; };

  // The legend's rows, laid out before the height is known.
  std::vector<LegendItem> legend;
  double lx = kLeft, ly = kTop + ph + kAxisBelow + 8;
  for (size_t i = 0; i < c.series.size(); ++i) {
    const ChartSeries& s = c.series[i];
    const double w = 34 + text_width(s.name) + 18;
    if (lx + w > width - kRight && lx > kLeft) {
      lx = kLeft;
      ly += kLegendRow;
    }
    legend.push_back({s.name, chart_colour(s.colour >= 0 ? s.colour : int(i)),
                      chart_dash(s.dash >= 0 ? s.dash : int(i)), lx, ly});
    lx += w;
  }
  const double height = (legend.empty() ? kTop + ph + kAxisBelow : ly + kLegendRow - 4) + 4;

  const std::string id = xml_escape(c.id);
  std::string o;
  // (No xmlns: inside HTML the parser puts <svg> in the SVG namespace, and the page stays free
  // of anything that looks like an external reference.)
  o += "<svg class=\"chart\" data-chart=\"" + id + "\"";
  o += " viewBox=\"0 0 " + std::to_string(width) + " " + svg_number(height) + "\"";
  o += " role=\"img\" aria-labelledby=\"" + id + "-title\">\n";
  o += "<title id=\"" + id + "-title\">" + xml_escape(c.title) + "</title>\n";
  o += "<defs><clipPath id=\"" + id + "-clip\"><rect x=\"" + svg_number(kLeft) + "\" y=\"" +
       svg_number(kTop) + "\" width=\"" + svg_number(pw) + "\" height=\"" + svg_number(ph) +
       "\"/></clipPath>";
  o += "<pattern id=\"" + id +
       "-hatch\" width=\"7\" height=\"7\" patternUnits=\"userSpaceOnUse\" "
       "patternTransform=\"rotate(45)\"><rect width=\"7\" height=\"7\" fill=\"#d55e00\" "
       "fill-opacity=\"0.07\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"7\" stroke=\"#d55e00\" "
       "stroke-opacity=\"0.35\" stroke-width=\"2\"/></pattern></defs>\n";

  // Bands behind everything else.
  o += "<g class=\"bands\">\n";
  for (size_t i = 0; i < c.bands.size(); ++i) {
    const ChartBand& b = c.bands[i];
    const double bx0 = px(std::clamp(b.x0, x0, x1)), bx1 = px(std::clamp(b.x1, x0, x1));
    if (bx1 <= bx0) continue;
    o += "<g class=\"band " + std::string(b.fault ? "fault" : "warmup") + "\"><rect x=\"" +
         svg_number(bx0) + "\" y=\"" + svg_number(kTop) + "\" width=\"" +
         svg_number(std::max(bx1 - bx0, 1.5)) + "\" height=\"" + svg_number(ph) + "\" fill=\"" +
         (b.fault ? "url(#" + id + "-hatch)" : std::string("#eeeeee")) + "\"/>";
    // Labels of neighbouring bands would collide: they step down a line each.
    const double ty = kTop + 12 + 13 * static_cast<double>(i % 3);
    o += "<text class=\"band-label\" x=\"" + svg_number(bx0 + 3) + "\" y=\"" + svg_number(ty) +
         "\" clip-path=\"url(#" + id + "-clip)\">" + xml_escape(b.label) + "</text></g>\n";
  }
  o += "</g>\n";

  // Grid and y axis.
  o += "<g class=\"axis y\">\n";
  const std::vector<std::string> ylabels = format_ticks(yticks, c.y_format);
  for (size_t k = 0; k < yticks.size(); ++k) {
    const std::string y = svg_number(py(yticks[k]));
    o += "<line class=\"grid\" x1=\"" + svg_number(kLeft) + "\" x2=\"" + svg_number(kLeft + pw) +
         "\" y1=\"" + y + "\" y2=\"" + y + "\"/><text class=\"tick\" x=\"" + svg_number(kLeft - 6) +
         "\" y=\"" + y + "\" dy=\"0.32em\" text-anchor=\"end\">" + xml_escape(ylabels[k]) +
         "</text>\n";
  }
  o += "<text class=\"axis-label\" x=\"" + svg_number(kLeft) + "\" y=\"" + svg_number(kTop - 12) +
       "\">" + xml_escape(c.y_label) + "</text>\n";
  o += "</g>\n";

  // x axis.
  o += "<g class=\"axis x\">\n";
  o += "<line class=\"domain\" x1=\"" + svg_number(kLeft) + "\" x2=\"" + svg_number(kLeft + pw) +
       "\" y1=\"" + svg_number(kTop + ph) + "\" y2=\"" + svg_number(kTop + ph) + "\"/>\n";
  const std::vector<std::string> xlabels = format_ticks(xticks, c.x_format);
  for (size_t k = 0; k < xticks.size(); ++k) {
    const std::string x = svg_number(px(xticks[k]));
    o += "<line class=\"tick-mark\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" +
         svg_number(kTop + ph) + "\" y2=\"" + svg_number(kTop + ph + 5) +
         "\"/><text class=\"tick\" x=\"" + x + "\" y=\"" + svg_number(kTop + ph + 18) +
         "\" text-anchor=\"middle\">" + xml_escape(xlabels[k]) + "</text>\n";
  }
  o += "<text class=\"axis-label\" x=\"" + svg_number(kLeft + pw) + "\" y=\"" +
       svg_number(kTop + ph + 38) + "\" text-anchor=\"end\">simulated time</text>\n";
  o += "</g>\n";

  // The series.
  std::vector<double> dx, dy;
  for (size_t i = 0; i < c.series.size(); ++i) {
    const ChartSeries& s = c.series[i];
    downsample_min_max(s.x, s.y, kMaxPoints, dx, dy);
    std::string d;
    bool pen_down = false;
    for (size_t k = 0; k < dx.size(); ++k) {
      if (!std::isfinite(dy[k])) {
        pen_down = false;
        continue;
      }
      const bool lone = !pen_down && (k + 1 >= dx.size() || !std::isfinite(dy[k + 1]));
      // Appended piece by piece: GCC 12 warns falsely on "x" + std::string&& (bug 105329).
      d += pen_down ? 'L' : 'M';
      d += svg_number(px(dx[k]));
      d += ',';
      d += svg_number(py(dy[k]));
      if (lone) d += "h0";  // a point between gaps: drawn as a dot by the round caps
      pen_down = true;
    }
    const LegendItem& l = legend[i];
    o += "<g class=\"series\" data-series=\"" + xml_escape(s.name) +
         "\"><path class=\"line\" d=\"" + d + "\" stroke=\"" + l.colour + "\"";
    if (*l.dash) o += " stroke-dasharray=\"" + std::string(l.dash) + "\"";
    o += " clip-path=\"url(#" + id + "-clip)\"/></g>\n";
  }

  // The plot's frame on top of the lines' ends.
  o += "<line class=\"domain\" x1=\"" + svg_number(kLeft) + "\" x2=\"" + svg_number(kLeft) +
       "\" y1=\"" + svg_number(kTop) + "\" y2=\"" + svg_number(kTop + ph) + "\"/>\n";

  o += "<g class=\"legend\">\n";
  for (const LegendItem& l : legend) {
    const std::string y = svg_number(l.y);
    o += "<g class=\"legend-item\"><line x1=\"" + svg_number(l.x) + "\" x2=\"" +
         svg_number(l.x + 26) + "\" y1=\"" + y + "\" y2=\"" + y + "\" stroke=\"" + l.colour + "\"";
    if (*l.dash) o += " stroke-dasharray=\"" + std::string(l.dash) + "\"";
    o += "/><text x=\"" + svg_number(l.x + 32) + "\" y=\"" + y + "\" dy=\"0.32em\">" +
         xml_escape(l.name) + "</text></g>\n";
  }
  o += "</g>\n</svg>\n";
  return o;
}

}  // namespace dsim
