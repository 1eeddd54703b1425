#!/usr/bin/env python3
# Renders tests/integration/authz_matrix.csv into docs/authorization.md (the
# table between the authz-matrix markers). Run from the repository root after
# editing the CSV; authz_matrix_test checks the two agree.
import sys
rows=[]; header=None
for line in open('tests/integration/authz_matrix.csv'):
    l=line.strip()
    if not l or l.startswith('#'): continue
    f=[x.strip() for x in l.split(',')]
    if header is None: header=f; continue
    rows.append(f)
P=header[3:]
out="| service | RPC |"+"".join(" %s |"%p for p in P)+"\n|---|---|"+"---|"*len(P)+"\n"
sym={'allow':'✓','deny':'✗ denied','unauth':'✗ unauth'}
for r in rows:
    out+="| %s | %s%s |"%(r[0].replace('aftersales.v1.','',1),r[1],' (pending)' if r[2]=='pending' else '')
    out+="".join(" %s |"%sym[c] for c in r[3:])+"\n"
doc=open('docs/authorization.md').read()
b="<!-- authz-matrix:begin (generated from tests/integration/authz_matrix.csv) -->\n"
e="<!-- authz-matrix:end -->"
i=doc.index(b)+len(b); j=doc.index(e)
doc=doc[:i]+out+doc[j:]
open('docs/authorization.md','w').write(doc)
