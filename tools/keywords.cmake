# keywords.cmake - included by the main CMakeLists (tools/*.cmake).
# Builds ww-idf, the training-time tool that derives data/keywords/idf.tsv
# (document frequencies for TF-IDF keywords) from the news corpus. Never run by
# the build: its output is committed. See docs/ner.md.
add_executable(ww-idf ${CMAKE_SOURCE_DIR}/tools/ww_idf.c)
target_link_libraries(ww-idf PRIVATE ww_common)
