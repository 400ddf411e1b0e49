// A dependency-free SVG line plot (Debian 12 packages no C++ plotting library): several named
// series of (x, y) points on linear axes, with ticks, grid, legend and axis titles. Opens in any
// browser and renders in GitHub's Markdown preview.
#ifndef ROBUSTNESS_EVALUATION_SVG_LINE_PLOT_H_
#define ROBUSTNESS_EVALUATION_SVG_LINE_PLOT_H_

#include <string>
#include <utility>
#include <vector>

namespace robustness {

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in the given order
};

struct LinePlot {
  std::string title;
  std::string x_label;
  std::string y_label;
  double y_min = 0;    // fixed y range (e.g. accuracy 0..100)
  double y_max = 100;
  std::vector<PlotSeries> series;
};

// The SVG document (UTF-8 text). Text is XML-escaped. The x range spans all points.
std::string RenderSvg(const LinePlot& plot);

}  // namespace robustness

#endif  // ROBUSTNESS_EVALUATION_SVG_LINE_PLOT_H_
