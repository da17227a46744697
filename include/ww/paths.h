/* paths.h - where bundled data (demo stream, rules, gazetteer, model) and
 * sibling programs are found. */
#ifndef WW_PATHS_H
#define WW_PATHS_H

/* First existing file among $WIREWATCH_DATADIR/name, <exe dir>/../share/wirewatch/name,
 * the build tree's data/ and the source tree's data/, the install datadir.
 * Returns NULL when none exists. Caller owns. */
char *ww_data_path(const char *name);

/* Directory of the running executable. Caller owns; NULL on failure. */
char *ww_exe_dir(void);

/* Path of a sibling program (e.g. "wirewatch-ingest"): <exe dir>/name when it
 * exists, else name (looked up in PATH by exec). Caller owns. */
char *ww_program_path(const char *name);

#endif
