# forth-lite prelude: word definitions loaded at start (via mkgen)
: sq dup * ;
: cube dup sq * ;
: double 2 * ;
