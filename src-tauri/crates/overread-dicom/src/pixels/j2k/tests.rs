//! The walk over synthetic codestreams (structure only: no samples are
//! decoded). Real codestreams, cut and damaged, are in tests/it/complete.rs.

use super::*;

fn segment(marker: u16, body: &[u8]) -> Vec<u8> {
    let mut s = marker.to_be_bytes().to_vec();
    s.extend_from_slice(&(body.len() as u16 + 2).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A 64×48 one-component codestream with 32×32 tiles (2×2 of them), five
/// decomposition levels, one tile-part per tile with a 20-byte body.
fn codestream() -> Vec<u8> {
    let mut siz = vec![0, 0];
    for v in [64u32, 48, 0, 0, 32, 32, 0, 0] {
        siz.extend_from_slice(&v.to_be_bytes());
    }
    siz.extend_from_slice(&1u16.to_be_bytes());
    siz.extend_from_slice(&[15, 1, 1]);
    let mut cs = vec![0xFF, 0x4F];
    cs.extend(segment(SIZ, &siz));
    cs.extend(segment(COD, &[0, 0, 0, 1, 0, 5, 4, 4, 0, 1]));
    cs.extend(segment(QCD, &[0x20, 0x40]));
    for tile in 0..4u16 {
        let psot: u32 = 12 + 2 + 20;
        let mut sot = tile.to_be_bytes().to_vec();
        sot.extend_from_slice(&psot.to_be_bytes());
        sot.extend_from_slice(&[0, 1]);
        cs.extend(segment(SOT, &sot));
        cs.extend_from_slice(&SOD.to_be_bytes());
        cs.extend_from_slice(&[0x80; 20]);
    }
    cs.extend_from_slice(&EOC.to_be_bytes());
    cs
}

#[test]
fn a_whole_codestream_walks_to_eoc() {
    let cs = walk(&codestream()).expect("whole");
    assert_eq!(
        (cs.width, cs.height, cs.components, cs.precision),
        (64, 48, 1, 16)
    );
    assert_eq!((cs.levels, cs.tiles, cs.tile_parts), (5, 4, 4));
    // Even-length padding after EOC is allowed; anything else is not.
    let mut padded = codestream();
    padded.push(0);
    assert!(walk(&padded).is_ok());
    padded.extend_from_slice(&[1, 0]);
    assert!(
        walk(&padded)
            .expect_err("trailing bytes")
            .contains("follow EOC")
    );
}

#[test]
fn every_cut_is_caught() {
    let whole = codestream();
    for len in 0..whole.len() {
        let cut = &whole[..len];
        assert!(walk(cut).is_err(), "cut at {len} of {} passed", whole.len());
    }
}

#[test]
fn damaged_markers_and_lengths_are_caught() {
    let whole = codestream();
    let sot = whole
        .windows(2)
        .position(|w| w == [0xFF, 0x90])
        .expect("SOT");
    let cases: [(usize, u8, &str); 7] = [
        (8, 0x01, "SIZ width"),               // Xsiz high byte
        (40, 0x20, "SIZ component count"),    // Csiz
        (sot + 1, 0x01, "SOT marker"),        // FF90 → FF91
        (sot + 5, 0x01, "tile index"),        // Isot
        (sot + 9, 0x40, "Psot"),              // tile-part length
        (sot + 10, 0x01, "tile-part number"), // TPsot
        (whole.len() - 1, 0x01, "EOC"),
    ];
    for (at, bit, what) in cases {
        let mut bad = whole.clone();
        bad[at] ^= bit;
        assert!(walk(&bad).is_err(), "{what} flipped at {at} passed");
    }
}

#[test]
fn a_missing_tile_or_tile_part_is_caught() {
    let whole = codestream();
    let tile_part = 12 + 2 + 20;
    let eoc = whole.len() - 2;
    // Drop the last tile's tile-part: EOC comes early.
    let mut short = whole[..eoc - tile_part].to_vec();
    short.extend_from_slice(&EOC.to_be_bytes());
    assert!(
        walk(&short)
            .expect_err("missing tile")
            .contains("tile 3 has 0")
    );
}

#[test]
fn reductions_stop_at_the_preview_side_and_the_levels() {
    let mut cs = walk(&codestream()).expect("whole");
    (cs.width, cs.height) = (1841, 1955);
    assert_eq!(reduction_for(&cs, 512), 2);
    assert_eq!(reduction_for(&cs, 4096), 0);
    cs.levels = 1;
    assert_eq!(reduction_for(&cs, 512), 1);
}
