#!/usr/bin/env python3
"""ner_gazetteer.py - builds the NER model's gazetteer (a training-time tool).

    tools/ner_gazetteer.py OUT.tsv

Reads only Debian packages (scripts/setup.sh installs them) and the project's
hand-written data/gazetteer-extra.tsv, and writes phrase<TAB>TYPE lines, TYPE
one of LOC PER FIRST LAST ORG MISC DEMONYM TITLE CUR (see common/ner_internal.h):

  iso-codes           countries, subdivisions, former countries -> LOC; currencies -> CUR
  tzdata              zone cities (Europe/Paris -> Paris) -> LOC
  unicode-cldr-core   English territory names -> LOC; language names -> MISC
  miscfiles           cities, capitals, countries, airports -> LOC; propernames -> FIRST
  libtext-names-perl  1990 US census first names -> FIRST, surnames -> LAST
  wordnet-base        instance nouns: noun.person -> PER, noun.location -> LOC,
                      noun.group -> ORG, other lexicographer files -> MISC
The output is sorted, so it is the same for the same package versions.
"""
import gzip
import json
import os
import re
import sys

OUT = set()


def add(phrase, typ):
    phrase = " ".join(phrase.replace("_", " ").split())
    if not phrase or len(phrase) > 80 or "\t" in phrase:
        return
    if len(phrase.split()) > 6:
        return
    OUT.add((phrase, typ))


def iso_codes(d="/usr/share/iso-codes/json"):
    def load(name, key):
        p = os.path.join(d, name)
        if not os.path.exists(p):
            return []
        with open(p, encoding="utf-8") as f:
            return json.load(f).get(key, [])
    for e in load("iso_3166-1.json", "3166-1"):
        for k in ("name", "common_name", "official_name"):
            if k in e:
                add(e[k], "LOC")
                if "," in e[k]:
                    add(e[k].split(",")[0], "LOC")
    for e in load("iso_3166-2.json", "3166-2"):
        add(e.get("name", ""), "LOC")
    for e in load("iso_3166-3.json", "3166-3"):
        add(e.get("name", ""), "LOC")
    for e in load("iso_4217.json", "4217"):
        add(e.get("name", ""), "CUR")
        add(e.get("alpha_3", ""), "CUR")


def tzdata(p="/usr/share/zoneinfo/zone1970.tab"):
    for p in (p, "/usr/share/zoneinfo/zone.tab"):
        if not os.path.exists(p):
            continue
        with open(p, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                cols = line.rstrip("\n").split("\t")
                if len(cols) >= 3:
                    add(cols[2].split("/")[-1], "LOC")


def cldr(p="/usr/share/unicode/cldr/common/main/en.xml"):
    if not os.path.exists(p):
        return
    with open(p, encoding="utf-8") as f:
        x = f.read()
    for m in re.finditer(r'<territory type="([A-Z]{2})"[^>]*>([^<]+)</territory>', x):
        add(m.group(2), "LOC")
    for m in re.finditer(r'<language type="[a-z]{2,3}"[^>]*>([^<]+)</language>', x):
        add(m.group(1), "MISC")


def gz_lines(p):
    if not os.path.exists(p):
        return []
    with gzip.open(p, "rt", encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def miscfiles():
    for line in gz_lines("/usr/share/misc/cities.dat.gz"):
        if line.startswith("Name") and ":" in line:
            add(line.split(":", 1)[1].strip(), "LOC")
    for line in gz_lines("/usr/share/misc/countries.gz"):
        if line.startswith("#"):
            continue
        cols = line.split(":")
        if len(cols) >= 5:
            add(cols[3], "LOC")
            for c in cols[4].split(","):
                add(c.strip(), "LOC")
    for line in gz_lines("/usr/share/misc/airport.gz"):
        if line.startswith("#"):
            continue
        cols = line.split(":")
        if len(cols) >= 5:
            add(cols[1], "LOC")
    for line in gz_lines("/usr/share/dict/propernames.gz"):
        add(line.strip(), "FIRST")


def text_names(p="/usr/share/perl5/Text/Names.pm"):
    if not os.path.exists(p):
        return
    with open(p, encoding="utf-8", errors="replace") as f:
        x = f.read()
    for var, typ in (("COMMON_SURNAMES", "LAST"), ("COMMON_MALE_FIRSTNAMES", "FIRST"),
                     ("COMMON_FEMALE_FIRSTNAMES", "FIRST")):
        m = re.search(r"\$" + var + r" = <<ENDNAMES;\n(.*?)\nENDNAMES", x, re.S)
        if not m:
            continue
        for line in m.group(1).splitlines():
            w = line.split()
            if w and w[0].isalpha():
                add(w[0].capitalize(), typ)


def wordnet(p="/usr/share/wordnet/data.noun"):
    if not os.path.exists(p):
        return
    lex = {18: "PER", 15: "LOC", 14: "ORG"}
    with open(p, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(" ") or " @i " not in line:
                continue
            cols = line.split(" ")
            lexfile = int(cols[1])
            n = int(cols[3], 16)
            typ = lex.get(lexfile, "MISC")
            for k in range(n):
                w = cols[4 + 2 * k]
                w = re.sub(r"\([a-z]+\)$", "", w)
                if w[:1].isupper():
                    add(w, typ)


def extra(p):
    if not os.path.exists(p):
        return
    types = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC", "DEMONYM": "DEMONYM",
             "TITLE": "TITLE", "FIRST": "FIRST", "CUR": "CUR"}
    with open(p, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or "\t" not in line:
                continue
            cols = line.rstrip("\n").split("\t")
            if cols[1].strip() in types:
                add(cols[0], types[cols[1].strip()])


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: ner_gazetteer.py OUT.tsv\n")
        return 2
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    iso_codes()
    tzdata()
    cldr()
    miscfiles()
    text_names()
    wordnet()
    extra(os.path.join(root, "data", "gazetteer-extra.tsv"))
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write("# NER gazetteer built by tools/ner_gazetteer.py from Debian packages\n")
        for phrase, typ in sorted(OUT):
            f.write(f"{phrase}\t{typ}\n")
    counts = {}
    for _, t in OUT:
        counts[t] = counts.get(t, 0) + 1
    sys.stderr.write("ner_gazetteer: %d entries %s\n" % (len(OUT), sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
