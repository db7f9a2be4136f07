#pragma once
// The gallery's pages: index.html and index.md laid out like the reference
// project's table (one row per density; True | MAF | Real NVP | ...).

#include <string>
#include <vector>

namespace diffeo::cli {

/// One picture of the gallery table with its caption (may be empty).
struct GalleryCell {
  std::string image;  // path relative to the page
  std::string caption;
};

/// A row of the table: a density and its cells in column order.
struct GalleryRow {
  std::string density;
  std::vector<GalleryCell> cells;
};

/// A figure shown below the table, with a heading and a sentence.
struct GalleryFigure {
  std::string heading, image, text;
};

struct GalleryPage {
  std::string title, intro;
  std::vector<std::string> columns;  // "True", "MAF", ...
  std::vector<GalleryRow> rows;
  std::vector<GalleryFigure> figures;
};

/// The page as HTML (self-contained; a script counts images that failed to
/// load into <body data-broken-images="N">, for the browser check) and as
/// Markdown.
std::string gallery_html(const GalleryPage& page);
std::string gallery_markdown(const GalleryPage& page);

}  // namespace diffeo::cli
