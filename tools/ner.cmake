# ner.cmake - included by the main CMakeLists (tools/*.cmake).
# Builds ww-clusters, the training-time word-cluster tool (never run by the
# build: its output data/ner/clusters.tsv is committed). See docs/ner.md.
add_executable(ww-clusters ${CMAKE_SOURCE_DIR}/tools/ww_clusters.c)
target_link_libraries(ww-clusters PRIVATE ww_common)
