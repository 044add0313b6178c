//! PNG and GIF text: plotters' bitmap text drawing (ab_glyph) drops each glyph's left side
//! bearing, so "100" reads "1 00". This wrapper draws text itself with the bundled font
//! (bearings and kerning kept), draws wide lines without miter spikes, and passes
//! everything else to plotters' `BitMapBackend`.

use plotters::prelude::*;
use plotters_backend::{
    text_anchor::{HPos, VPos},
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

use ab_glyph::{Font, FontRef, ScaleFont};

/// A `BitMapBackend` whose text is drawn with correct glyph placement.
pub struct Raster<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> Raster<'a> {
    /// Wraps a bitmap backend.
    pub fn new(inner: BitMapBackend<'a>) -> Self {
        let font = FontRef::try_from_slice(super::FONT_BYTES).expect("the bundled font parses");
        Raster { inner, font }
    }
}

type Err = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

impl DrawingBackend for Raster<'_> {
    type ErrorType = Err;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Err>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Err>> {
        self.inner.present()
    }
    fn draw_pixel(
        &mut self,
        p: BackendCoord,
        c: BackendColor,
    ) -> Result<(), DrawingErrorKind<Err>> {
        self.inner.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Err>> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Err>> {
        self.inner.draw_rect(a, b, style, fill)
    }
    /// Wide paths segment by segment with round joins: plotters' polygonised path uses
    /// unlimited miter joins, which shoot spikes far outside the plot at sharp turns.
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Err>> {
        let width = style.stroke_width();
        if width <= 1 {
            return self.inner.draw_path(path, style);
        }
        let points: Vec<BackendCoord> = path.into_iter().collect();
        for w in points.windows(2) {
            self.inner.draw_line(w[0], w[1], style)?;
        }
        if points.len() > 2 {
            for p in &points[1..points.len() - 1] {
                self.inner.draw_circle(*p, width / 2, style, true)?;
            }
        }
        Ok(())
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Err>> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Err>> {
        self.inner.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Err>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Err>> {
        let (w, h) = self.layout(text, style.size());
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Err>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let size = style.size() as f32;
        let (width, height) = self.layout(text, style.size());
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Right => -width,
            HPos::Center => -width / 2.0,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        let font = self.font.as_scaled(size);
        let baseline = font.ascent();
        let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
        let mut x = 0.0f32;
        let mut prev = None;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            if let Some(p) = prev {
                x += font.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(size, ab_glyph::point(x, baseline));
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, c| {
                    pixels.push((
                        (b.min.x + gx as f32 + dx).round() as i32,
                        (b.min.y + gy as f32 + dy).round() as i32,
                        c,
                    ));
                });
            }
            x += font.h_advance(id);
        }
        for (px, py, c) in pixels {
            if c <= 0.0 {
                continue;
            }
            let (tx, ty) = trans.transform(px, py);
            let (tx, ty) = (pos.0 + tx, pos.1 + ty);
            if tx >= 0 && ty >= 0 && tx < w as i32 && ty < h as i32 {
                self.inner.draw_pixel(
                    (tx, ty),
                    BackendColor {
                        alpha: color.alpha * f64::from(c.min(1.0)),
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }
}

impl Raster<'_> {
    /// Width and height of a line of text at `size` pixels (height: ascent − descent).
    fn layout(&self, text: &str, size: f64) -> (f32, f32) {
        let font = self.font.as_scaled(size as f32);
        let mut x = 0.0;
        let mut prev = None;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            if let Some(p) = prev {
                x += font.kern(p, id);
            }
            prev = Some(id);
            x += font.h_advance(id);
        }
        (x, font.ascent() - font.descent())
    }
}
