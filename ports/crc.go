package ports

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"strings"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DsynthCRC computes dsynth's port directory CRC (subs.c crcDirTree), the
// value dsynth keeps in ports_crc.db. dsynth walks the directory with
// fts(FTS_PHYSICAL) and, for every regular file and symbolic link (never
// followed) whose own name neither starts with "." nor ends in ".core",
// takes the CRC-32C (iSCSI) of the lstat mtime in seconds (a 64-bit
// time_t), continued over the size (a 64-bit off_t), both as the machine
// stores them, and over the path (the directory as given, "/", the names
// below it, no NUL); the result is the XOR of those CRCs, so the order of
// the walk does not matter. Files inside dot directories count (only an
// entry's own name is tested), and contents are never read: touching a
// file changes the CRC. Directories below dir that cannot be read are
// passed over, as fts reports them and dsynth goes on; only dir itself
// failing is an error.
func DsynthCRC(dir string) (uint32, error) {
	if _, err := os.ReadDir(dir); err != nil {
		return 0, err
	}
	var acc uint32
	var buf [16]byte
	var walk func(path string)
	walk = func(path string) {
		ents, err := os.ReadDir(path)
		if err != nil {
			return
		}
		for _, e := range ents {
			name := e.Name()
			p := path + "/" + name
			if strings.HasSuffix(path, "/") {
				p = path + name
			}
			fi, err := os.Lstat(p)
			if err != nil {
				continue
			}
			if fi.IsDir() {
				walk(p)
				continue
			}
			if !fi.Mode().IsRegular() && fi.Mode()&os.ModeSymlink == 0 {
				continue
			}
			if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".core") {
				continue
			}
			binary.NativeEndian.PutUint64(buf[0:8], uint64(fi.ModTime().Unix()))
			binary.NativeEndian.PutUint64(buf[8:16], uint64(fi.Size()))
			c := crc32.Update(0, castagnoli, buf[:])
			c = crc32.Update(c, castagnoli, []byte(p))
			acc ^= c
		}
	}
	walk(dir)
	return acc, nil
}
