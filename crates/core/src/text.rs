//! Text helpers shared by the modules: search keys.

/// Lower-case, without accents or ligatures, inner whitespace collapsed: what searches compare.
/// `"Dr  Élise  CŒUR-Lefèvre"` → `"dr elise coeur-lefevre"`.
pub fn fold_for_search(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' | 'ì' => out.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ÿ' | 'ý' => out.push('y'),
            'ñ' => out.push('n'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_ligatures_and_spaces() {
        assert_eq!(fold_for_search("  Dr  Élise \t CŒUR-Lefèvre "), "dr elise coeur-lefevre");
        assert_eq!(fold_for_search("ÇA GÂCHE À L'ÎLE"), "ca gache a l'ile");
        assert_eq!(fold_for_search(""), "");
    }
}
