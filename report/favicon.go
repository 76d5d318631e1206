package report

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// Favicon returns the report's 16×16 favicon.png: a dark tile with three
// green bars (a progress meter), drawn here rather than shipped as a file.
func Favicon() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	bg := color.NRGBA{0x1f, 0x29, 0x37, 0xff}
	fg := color.NRGBA{0x34, 0xd3, 0x99, 0xff}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			img.Set(x, y, bg)
		}
	}
	for i, h := range []int{6, 9, 12} {
		x0 := 2 + i*4
		for y := 14 - h; y < 14; y++ {
			for x := x0; x < x0+3; x++ {
				img.Set(x, y, fg)
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // encoding an in-memory image cannot fail
	return b.Bytes()
}
