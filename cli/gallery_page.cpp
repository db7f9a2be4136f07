#include "gallery_page.h"

#include <sstream>

namespace diffeo::cli {
namespace {

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string gallery_html(const GalleryPage& page) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
      << escape_html(page.title) << "</title>\n<style>\n"
      << "body { font-family: sans-serif; margin: 2em; color: #222; }\n"
      << "table { border-collapse: collapse; }\n"
      << "th, td { padding: 4px 8px; text-align: center; vertical-align: top; }\n"
      << "td img { width: 240px; display: block; }\n"
      << "figure img { max-width: 900px; }\n"
      << ".caption { font-size: 0.85em; color: #555; }\n</style>\n</head>\n"
      << "<body data-broken-images=\"unknown\">\n<h1>" << escape_html(page.title) << "</h1>\n<p>"
      << escape_html(page.intro) << "</p>\n<table>\n<tr><th>density</th>";
  for (const auto& column : page.columns) out << "<th>" << escape_html(column) << "</th>";
  out << "</tr>\n";
  for (const auto& row : page.rows) {
    out << "<tr><th>" << escape_html(row.density) << "</th>";
    for (const auto& cell : row.cells)
      out << "<td><img src=\"" << escape_html(cell.image) << "\" alt=\"" << escape_html(row.density)
          << "\"><div class=\"caption\">" << escape_html(cell.caption) << "</div></td>";
    out << "</tr>\n";
  }
  out << "</table>\n";
  for (const auto& figure : page.figures)
    out << "<h2>" << escape_html(figure.heading) << "</h2>\n<figure><img src=\""
        << escape_html(figure.image) << "\" alt=\"" << escape_html(figure.heading)
        << "\"><figcaption>" << escape_html(figure.text) << "</figcaption></figure>\n";
  // For scripts/check-gallery: how many images failed to load.
  out << "<script>\nwindow.addEventListener('load', () => {\n"
      << "  const broken = [...document.images].filter(i => !i.complete || i.naturalWidth === 0);\n"
      << "  document.body.dataset.brokenImages = String(broken.length);\n});\n</script>\n"
      << "</body>\n</html>\n";
  return out.str();
}

std::string gallery_markdown(const GalleryPage& page) {
  std::ostringstream out;
  out << "# " << page.title << "\n\n" << page.intro << "\n\n| density |";
  for (const auto& column : page.columns) out << ' ' << column << " |";
  out << "\n|---|";
  for (size_t i = 0; i < page.columns.size(); ++i) out << "---|";
  out << '\n';
  for (const auto& row : page.rows) {
    out << "| " << row.density << " |";
    for (const auto& cell : row.cells)
      out << " ![" << row.density << "](" << cell.image << ")<br>" << cell.caption << " |";
    out << '\n';
  }
  for (const auto& figure : page.figures)
    out << "\n## " << figure.heading << "\n\n![" << figure.heading << "](" << figure.image
        << ")\n\n"
        << figure.text << '\n';
  return out.str();
}

}  // namespace diffeo::cli
