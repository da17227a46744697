# gazetteer.cmake - included by the main CMakeLists (tools/*.cmake).
# Builds ww-gen-gazetteer and runs it to produce ${WW_BUILD_DATADIR}/gazetteer.tsv
# from Debian's iso-codes and the hand-written data/gazetteer-extra.tsv.
set(WW_ISO_CODES_DIR /usr/share/iso-codes/json CACHE PATH "Directory of the iso-codes JSON files")

add_executable(ww-gen-gazetteer ${CMAKE_SOURCE_DIR}/tools/gen_gazetteer.c)
target_link_libraries(ww-gen-gazetteer PRIVATE PkgConfig::JANSSON)

set(WW_GAZETTEER_INPUTS
  ${WW_ISO_CODES_DIR}/iso_3166-1.json
  ${WW_ISO_CODES_DIR}/iso_3166-2.json
  ${WW_ISO_CODES_DIR}/iso_3166-3.json
  ${WW_ISO_CODES_DIR}/iso_4217.json
  ${CMAKE_SOURCE_DIR}/data/gazetteer-extra.tsv)

add_custom_command(
  OUTPUT ${WW_BUILD_DATADIR}/gazetteer.tsv
  COMMAND ww-gen-gazetteer ${WW_BUILD_DATADIR}/gazetteer.tsv ${WW_ISO_CODES_DIR}
          ${CMAKE_SOURCE_DIR}/data/gazetteer-extra.tsv
  DEPENDS ww-gen-gazetteer ${WW_GAZETTEER_INPUTS}
  COMMENT "Generating gazetteer.tsv from iso-codes"
  VERBATIM)
add_custom_target(gazetteer ALL DEPENDS ${WW_BUILD_DATADIR}/gazetteer.tsv)
