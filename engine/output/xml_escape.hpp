// Escaping text for XML and HTML (JUnit files, the report's SVG and HTML).
#pragma once

#include <string>
#include <string_view>

namespace dsim {

// The five markup characters become references (' as &#39;, which HTML and XML both know);
// control characters XML 1.0 forbids become a visible \xNN.
std::string xml_escape(std::string_view text);

}  // namespace dsim
