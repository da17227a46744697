# libxml2.cmake - included by the main CMakeLists (tools/*.cmake).
# The feed parser (common/feed.c) and the HTML-to-text converter (common/html.c)
# use libxml2; ww_common links it publicly so every program and test gets it.
pkg_check_modules(XML2 REQUIRED IMPORTED_TARGET libxml-2.0)
target_link_libraries(ww_common PUBLIC PkgConfig::XML2)
