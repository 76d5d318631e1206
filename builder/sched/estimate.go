package sched

import (
	"math"
	"strings"
	"time"
)

// EstimateInput holds the scan facts Estimate looks at. Every field is
// optional; the zero value estimates an ordinary small C port.
type EstimateInput struct {
	// Origin is "category/port[@flavor]"; its name prefix tells pure
	// Perl, Python, Ruby and PHP modules apart.
	Origin string
	// Uses is the USES value, whitespace separated, arguments after ':'.
	Uses string
	// DistfileBytes is the total size of the distfiles from distinfo, 0
	// when unknown.
	DistfileBytes int64
	// Distfiles is the number of distfiles (ALLFILES words).
	Distfiles int
	// BuildDeps counts distinct fetch, extract, patch and build
	// dependencies; LibDeps and RunDeps the lib and run ones.
	BuildDeps, LibDeps, RunDeps int
	// Meta is true for a metaport (nothing to compile).
	Meta bool
}

// usesWeight multiplies the estimate for ports declaring a USES: the
// frameworks of big C++ projects and slow toolchains weigh more.
var usesWeight = map[string]float64{
	"cmake": 1.8, "meson": 1.5, "qmake": 1.8, "qt": 2.0, "kde": 2.5,
	"cargo": 4, "go": 1.5, "llvm": 1.5, "compiler": 1.2, "fortran": 1.5,
	"ada": 2, "gnome": 1.3, "autoreconf": 1.2, "libtool": 1.1, "gmake": 1.1,
	"electron": 6, "ghc": 3, "cabal": 3, "lazarus": 2, "java": 1.3,
	"tex": 1.5, "ninja": 1.2, "scons": 1.5, "bazel": 5, "mono": 1.5,
	"xorg": 1.0, "gl": 1.2, "sdl": 1.1, "gstreamer": 1.3, "linux": 0.5,
	"fonts": 0.5,
}

// Estimate guesses how long a port without recorded history takes to
// build, from what the scan knows. It is deliberately simple and
// monotonic: more distfile bytes, more dependencies and heavier build
// frameworks all mean longer. Only the order of estimates matters to the
// scheduler, so the scale is rough (an ordinary port ≈ 1 minute).
func Estimate(in EstimateInput) time.Duration {
	if in.Meta {
		return 10 * time.Second
	}
	secs := 30.0
	// Installing dependencies and the configure checks grow with them.
	secs += 3 * float64(in.BuildDeps+in.LibDeps)
	secs += 0.5 * float64(in.RunDeps)
	// Source size: about 3 s per MiB compiled; unknown distfiles count as
	// 2 MiB each.
	mib := float64(in.DistfileBytes) / (1 << 20)
	if in.DistfileBytes <= 0 {
		mib = 2 * float64(max(in.Distfiles, 1))
	}
	secs += 3 * mib
	mult := 1.0
	for tok := range strings.FieldsSeq(in.Uses) {
		name, _, _ := strings.Cut(tok, ":")
		if w, ok := usesWeight[name]; ok {
			mult *= w
		}
	}
	mult = min(mult, 20)
	// Interpreted-language modules install files and compile little.
	if i := strings.IndexByte(in.Origin, '/'); i >= 0 {
		name := in.Origin[i+1:]
		for _, p := range []string{"p5-", "py-", "rubygem-", "php", "R-cran-", "hs-"} {
			if strings.HasPrefix(name, p) && mult < 2 {
				mult *= 0.5
				break
			}
		}
	}
	secs *= mult
	return time.Duration(math.Round(secs)) * time.Second
}
