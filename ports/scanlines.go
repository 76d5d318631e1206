package ports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// ReadScanLines reads a scan in the JSON-lines format of the shared test
// data (freebsd-depgraph-2023q3.jsonl): one object per line, the origin in
// "origin" ("cat/port" or "cat/port@flavor") and the scan's variables
// under their make names (PKGVERSION, PKGFILE, ALLFILES, DIST_SUBDIR,
// MAKE_JOBS_NUMBER, IGNORE, FETCH_DEPENDS … RUN_DEPENDS,
// SELECTED_OPTIONS, DESELECTED_OPTIONS, USE_LINUX, FLAVORS, USES); a
// variable left out is empty. Each Info has StatusOK. An error names the
// line.
func ReadScanLines(r io.Reader) ([]*Info, error) {
	var infos []*Info
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var rec map[string]string
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("scan lines: line %d: %w", line, err)
		}
		in, err := scanLineInfo(rec)
		if err != nil {
			return nil, fmt.Errorf("scan lines: line %d: %w", line, err)
		}
		infos = append(infos, in)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan lines: %w", err)
	}
	return infos, nil
}

// scanLineInfo is the Info of one JSON line.
func scanLineInfo(r map[string]string) (*Info, error) {
	o, err := ParseOrigin(r["origin"])
	if err != nil {
		return nil, err
	}
	in := &Info{
		Origin: o, Status: StatusOK,
		PkgVersion: r["PKGVERSION"], PkgFile: r["PKGFILE"], AllFiles: r["ALLFILES"],
		DistSubdir: r["DIST_SUBDIR"], MakeJobsNumber: r["MAKE_JOBS_NUMBER"], Ignore: r["IGNORE"],
		SelectedOptions: r["SELECTED_OPTIONS"], DeselectedOptions: r["DESELECTED_OPTIONS"],
		UseLinux: r["USE_LINUX"], Flavors: r["FLAVORS"], Uses: r["USES"],
	}
	for _, k := range DepKinds {
		in.Depends[k-1] = r[k.String()+"_DEPENDS"]
	}
	return in, nil
}

// LoadScanFile reads a JSON-lines scan file (ReadScanLines), through
// `xz -dc` when its name ends in ".xz".
func LoadScanFile(path string) ([]*Info, error) {
	if !strings.HasSuffix(path, ".xz") {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("scan lines: %w", err)
		}
		defer f.Close()
		infos, err := ReadScanLines(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return infos, nil
	}
	cmd := exec.Command("xz", "-dc", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("scan lines: xz: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("scan lines: start xz -dc %s: %w", path, err)
	}
	infos, rerr := ReadScanLines(out)
	if rerr != nil {
		_, _ = io.Copy(io.Discard, out)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("scan lines: xz -dc %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	if rerr != nil {
		return nil, fmt.Errorf("%s: %w", path, rerr)
	}
	return infos, nil
}
