//! Reads the NumPy .npy files the reference script writes (format 1.0–3.0,
//! C order, little-endian numbers).

use std::path::Path;

pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

pub fn read(path: &Path) -> Result<Array, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(format!("{}: not an .npy file", path.display()));
    }
    let (header_len, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )
    };
    let header =
        std::str::from_utf8(&bytes[start..start + header_len]).map_err(|e| e.to_string())?;
    let field = |name: &str| -> Option<&str> {
        let at = header.find(&format!("'{name}':"))? + name.len() + 3;
        Some(header[at..].trim_start())
    };
    let descr = field("descr")
        .and_then(|s| s.split('\'').nth(1))
        .ok_or("no descr")?;
    if field("fortran_order").is_some_and(|s| s.starts_with("True")) {
        return Err("Fortran order is not supported".into());
    }
    let shape_text = field("shape")
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.split(')').next())
        .ok_or("no shape")?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let body = &bytes[start + header_len..];
    let data: Vec<f64> = match descr {
        "|u1" => body.iter().map(|&v| f64::from(v)).collect(),
        "|i1" => body.iter().map(|&v| f64::from(v as i8)).collect(),
        "<u2" => body
            .chunks_exact(2)
            .map(|c| f64::from(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        "<i2" => body
            .chunks_exact(2)
            .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])))
            .collect(),
        "<u4" => body
            .chunks_exact(4)
            .map(|c| f64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        "<i4" => body
            .chunks_exact(4)
            .map(|c| f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        "<f4" => body
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        "<f8" => body
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        other => return Err(format!("unsupported dtype {other}")),
    };
    Ok(Array { shape, data })
}
