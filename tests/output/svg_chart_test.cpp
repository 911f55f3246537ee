// The SVG line-chart writer: round ticks, tick labels in one unit, min/max downsampling that keeps
// spikes and gaps, escaping of series names, bands, and byte-identical output.
#include "output/svg_chart.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace dsim {
namespace {

TEST(NiceTicks, UseStepsOfOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_EQ(nice_ticks(0, 97, 5), (std::vector<double>{0, 20, 40, 60, 80}));
  const std::vector<double> fractions = nice_ticks(0, 1, 5);
  ASSERT_EQ(fractions.size(), 6u);
  for (size_t i = 0; i < fractions.size(); ++i) EXPECT_NEAR(fractions[i], 0.2 * i, 1e-12);
  EXPECT_EQ(nice_ticks(3, 47, 4), (std::vector<double>{10, 20, 30, 40}));
  EXPECT_DOUBLE_EQ(nice_step(0, 7300, 5), 1000);  // 7300 / 5 = 1460: rounds to 1000, not 2000
}

TEST(TimeTicks, UseStepsPeopleReadAsDurations) {
  EXPECT_EQ(time_ticks(0, 21600, 8),
            (std::vector<double>{0, 3600, 7200, 10800, 14400, 18000, 21600}));
  EXPECT_EQ(time_ticks(0, 600, 6), (std::vector<double>{0, 120, 240, 360, 480, 600}));
  // Weeks: a 1-2-5 number of days.
  const std::vector<double> long_run = time_ticks(0, 100 * 86400.0, 8);
  ASSERT_GE(long_run.size(), 2u);
  EXPECT_DOUBLE_EQ(long_run[1], 10 * 86400.0);
}

TEST(FormatTicks, WritesEveryTickInTheUnitOfTheLargest) {
  EXPECT_EQ(format_ticks({0, 0.25, 0.5}, AxisFormat::seconds),
            (std::vector<std::string>{"0", "250ms", "500ms"}));
  EXPECT_EQ(format_ticks({0, 3600, 7200, 10800}, AxisFormat::seconds),
            (std::vector<std::string>{"0", "1h", "2h", "3h"}));
  EXPECT_EQ(format_ticks({0, 60, 120}, AxisFormat::seconds),
            (std::vector<std::string>{"0", "60s", "120s"}));
  EXPECT_EQ(format_ticks({0, 5000, 10000}, AxisFormat::rate),
            (std::vector<std::string>{"0", "5k/s", "10k/s"}));
  EXPECT_EQ(format_ticks({0, 0.5, 1}, AxisFormat::percent),
            (std::vector<std::string>{"0", "50%", "100%"}));
}

TEST(DownsampleMinMax, KeepsTheExtremesOfEveryBucketInOrder) {
  std::vector<double> x, y;
  for (int i = 0; i < 100000; ++i) {
    x.push_back(i);
    y.push_back(std::sin(i * 0.001));
  }
  y[12345] = 100;  // a one-window spike
  y[777] = -5;     // and a dip
  std::vector<double> ox, oy;
  downsample_min_max(x, y, 2000, ox, oy);
  EXPECT_LE(ox.size(), 2000u);
  EXPECT_GE(ox.size(), 1000u);
  EXPECT_EQ(*std::max_element(oy.begin(), oy.end()), 100);
  EXPECT_EQ(*std::min_element(oy.begin(), oy.end()), -5);
  EXPECT_TRUE(std::is_sorted(ox.begin(), ox.end()));
  // The spike keeps its x.
  EXPECT_EQ(ox[std::max_element(oy.begin(), oy.end()) - oy.begin()], 12345);
}

TEST(DownsampleMinMax, ShortSeriesAndGapsPassThrough) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> ox, oy;
  downsample_min_max({1, 2, 3}, {4, nan, 6}, 2000, ox, oy);
  ASSERT_EQ(oy.size(), 3u);
  EXPECT_TRUE(std::isnan(oy[1]));
  // A bucket of gaps stays a gap.
  std::vector<double> x(10000), y(10000, 1.0);
  for (int i = 0; i < 10000; ++i) x[i] = i;
  for (int i = 5000; i < 5100; ++i) y[i] = nan;
  downsample_min_max(x, y, 200, ox, oy);
  EXPECT_TRUE(std::any_of(oy.begin(), oy.end(), [](double v) { return std::isnan(v); }));
}

LineChart sample_chart() {
  LineChart c;
  c.id = "sample";
  c.title = "Throughput";
  c.y_label = "per second";
  c.y_format = AxisFormat::rate;
  c.x_min = 0;
  c.x_max = 600;
  for (int s = 0; s < 2; ++s) {
    ChartSeries series;
    series.name = s == 0 ? "a<b & \"c\"" : "plain";
    for (int i = 1; i <= 120; ++i) {
      series.x.push_back(i * 5.0);
      series.y.push_back(10 + s * 5 + (i % 7));
    }
    c.series.push_back(series);
  }
  c.bands.push_back({100, 200, "outage <sms> & co", true});
  c.bands.push_back({0, 30, "warm-up", false});
  return c;
}

TEST(RenderSvg, DrawsAPathPerSeriesAxesLegendAndBands) {
  const std::string svg = render_svg(sample_chart());
  EXPECT_EQ(svg.rfind("<svg class=\"chart\" data-chart=\"sample\"", 0), 0u) << svg.substr(0, 80);
  size_t paths = 0;
  for (size_t at = svg.find("<path class=\"line\" d=\"M"); at != std::string::npos;
       at = svg.find("<path class=\"line\" d=\"M", at + 1))
    ++paths;
  EXPECT_EQ(paths, 2u);
  EXPECT_NE(svg.find("<g class=\"axis x\">"), std::string::npos);
  EXPECT_NE(svg.find("<g class=\"axis y\">"), std::string::npos);
  EXPECT_NE(svg.find(">10m</text>"), std::string::npos) << "x ticks in minutes";
  EXPECT_NE(svg.find(">20/s</text>"), std::string::npos) << "y ticks with their unit";
  EXPECT_NE(svg.find("class=\"legend-item\""), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray=\"7 4\""), std::string::npos) << "second series dashed";
  EXPECT_NE(svg.find("<g class=\"band fault\">"), std::string::npos);
  EXPECT_NE(svg.find("<g class=\"band warmup\">"), std::string::npos);
  EXPECT_NE(svg.find("url(#sample-hatch)"), std::string::npos);
}

TEST(RenderSvg, EscapesNamesAndLabels) {
  const std::string svg = render_svg(sample_chart());
  EXPECT_NE(svg.find("a&lt;b &amp; &quot;c&quot;"), std::string::npos);
  EXPECT_NE(svg.find("outage &lt;sms&gt; &amp; co"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
  EXPECT_EQ(svg.find("<sms>"), std::string::npos);
  EXPECT_EQ(xml_escape("<&>\"'"), "&lt;&amp;&gt;&quot;&#39;");
}

TEST(RenderSvg, IsByteIdenticalForTheSameInput) {
  EXPECT_EQ(render_svg(sample_chart()), render_svg(sample_chart()));
}

TEST(RenderSvg, GapsBreakTheLineAndAllZeroSeriesStillGetAnAxis) {
  LineChart c = sample_chart();
  c.series.resize(1);
  c.series[0].y.assign(c.series[0].x.size(), 0.0);
  c.series[0].y[10] = std::numeric_limits<double>::quiet_NaN();
  const std::string svg = render_svg(c);
  const size_t d = svg.find("<path class=\"line\" d=\"");
  ASSERT_NE(d, std::string::npos);
  const std::string path = svg.substr(d, svg.find('"', d + 22) - d);
  EXPECT_EQ(std::count(path.begin(), path.end(), 'M'), 2) << path;
  EXPECT_NE(svg.find(">0</text>"), std::string::npos);
}

}  // namespace
}  // namespace dsim
