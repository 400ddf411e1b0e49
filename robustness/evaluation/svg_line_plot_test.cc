#include "robustness/evaluation/svg_line_plot.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(RenderSvg, DrawsEverySeriesWithLegendAndEscapesText) {
  LinePlot plot;
  plot.title = "Accuracy <vs> eps";
  plot.x_label = "epsilon (x255)";
  plot.y_label = "accuracy (%)";
  plot.series = {{"ResNet & co", {{0, 90}, {4, 10}}}, {"DeiT", {{0, 88}, {4, 20}}}};
  const std::string svg = RenderSvg(plot);
  EXPECT_THAT(svg, StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr("Accuracy &lt;vs&gt; eps"));
  EXPECT_THAT(svg, HasSubstr("ResNet &amp; co"));
  size_t polylines = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) {
    ++polylines;
  }
  EXPECT_EQ(polylines, 2u);
}

TEST(RenderSvg, MapsPointsIntoThePlotArea) {
  LinePlot plot;
  plot.series = {{"a", {{0, 0}, {1, 100}}}};
  const std::string svg = RenderSvg(plot);
  // (x_min, y_min) is the bottom-left corner of the plot rectangle: (70, 380).
  EXPECT_THAT(svg, HasSubstr("points=\"70.0,380.0 530.0,40.0 \""));
}

}  // namespace
}  // namespace robustness
