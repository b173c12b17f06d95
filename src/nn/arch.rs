//! Architectures: the four reference models, defined once, and `seq:` layer lists that
//! mirror a `torch.nn.Sequential` so users can load their own models.

use crate::error::{Error, Result};

/// One layer. Layers with parameters carry the prefix of their state-dict names.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    Conv2d {
        name: String,
        in_ch: usize,
        out_ch: usize,
        k: usize,
        stride: usize,
        pad: usize,
    },
    Relu {
        name: String,
    },
    /// `nn.Tanh` (smooth: Koh & Liang's influence CNN uses it so the loss has a Hessian
    /// everywhere).
    Tanh {
        name: String,
    },
    MaxPool2d {
        name: String,
        k: usize,
        stride: usize,
    },
    /// Mean over H and W. `keep_spatial` gives `[N,C,1,1]` (`nn.AdaptiveAvgPool2d(1)`),
    /// otherwise `[N,C]`.
    GlobalAvgPool {
        name: String,
        keep_spatial: bool,
    },
    Flatten {
        name: String,
    },
    Linear {
        name: String,
        in_f: usize,
        out_f: usize,
    },
    /// Reads `[N,1,T,F]` (an image's rows as time steps) or `[N,T,F]`; outputs the last
    /// hidden state `[N,H]`, or with `sequence` every state as `[N,T,H]`
    /// (`torch.nn.GRU(batch_first=True)`'s first output).
    Gru {
        name: String,
        input: usize,
        hidden: usize,
        sequence: bool,
    },
    /// Attention pooling over a sequence `[N,T,H]`: `e_t = vᵀ tanh(W h_t + b)`,
    /// `α = softmax(e)`, output `Σ_t α_t h_t` `[N,H]`; α is kept as `NAME.alpha`. The
    /// parameters are those of `NAME.proj = nn.Linear(H, dim)` and
    /// `NAME.v = nn.Linear(dim, 1, bias=False)`.
    AttentionPool {
        name: String,
        hidden: usize,
        dim: usize,
    },
}

impl LayerSpec {
    pub fn name(&self) -> &str {
        match self {
            LayerSpec::Conv2d { name, .. }
            | LayerSpec::Relu { name }
            | LayerSpec::Tanh { name }
            | LayerSpec::MaxPool2d { name, .. }
            | LayerSpec::GlobalAvgPool { name, .. }
            | LayerSpec::Flatten { name }
            | LayerSpec::Linear { name, .. }
            | LayerSpec::Gru { name, .. }
            | LayerSpec::AttentionPool { name, .. } => name,
        }
    }

    /// State-dict names, shapes and fan-in (for initialization) of this layer's parameters.
    pub fn params(&self) -> Vec<(String, Vec<usize>, usize)> {
        match self {
            LayerSpec::Conv2d {
                name,
                in_ch,
                out_ch,
                k,
                ..
            } => {
                let fan = in_ch * k * k;
                vec![
                    (format!("{name}.weight"), vec![*out_ch, *in_ch, *k, *k], fan),
                    (format!("{name}.bias"), vec![*out_ch], fan),
                ]
            }
            LayerSpec::Linear { name, in_f, out_f } => {
                vec![
                    (format!("{name}.weight"), vec![*out_f, *in_f], *in_f),
                    (format!("{name}.bias"), vec![*out_f], *in_f),
                ]
            }
            LayerSpec::AttentionPool { name, hidden, dim } => vec![
                (format!("{name}.proj.weight"), vec![*dim, *hidden], *hidden),
                (format!("{name}.proj.bias"), vec![*dim], *hidden),
                (format!("{name}.v.weight"), vec![1, *dim], *dim),
            ],
            LayerSpec::Gru {
                name,
                input,
                hidden,
                ..
            } => vec![
                (
                    format!("{name}.weight_ih_l0"),
                    vec![3 * hidden, *input],
                    *hidden,
                ),
                (
                    format!("{name}.weight_hh_l0"),
                    vec![3 * hidden, *hidden],
                    *hidden,
                ),
                (format!("{name}.bias_ih_l0"), vec![3 * hidden], *hidden),
                (format!("{name}.bias_hh_l0"), vec![3 * hidden], *hidden),
            ],
            _ => vec![],
        }
    }
}

/// A named architecture: its layers, the per-example input shape it expects (if known)
/// and its class names.
#[derive(Clone, Debug, PartialEq)]
pub struct Arch {
    pub name: String,
    pub layers: Vec<LayerSpec>,
    pub input: Option<Vec<usize>>,
    pub classes: Vec<String>,
}

/// The names accepted by [`Arch::from_name`] besides `seq:` lists.
pub const REFERENCE_ARCHS: [&str; 7] = [
    "mnist-cnn",
    "mnist-gap",
    "mnist-gru",
    "mnist-attn-gru",
    "mnist-linear",
    "mnist-vae",
    "pokedigi-gap",
];

fn conv(name: &str, i: usize, o: usize) -> LayerSpec {
    LayerSpec::Conv2d {
        name: name.into(),
        in_ch: i,
        out_ch: o,
        k: 3,
        stride: 1,
        pad: 1,
    }
}
fn relu(name: &str) -> LayerSpec {
    LayerSpec::Relu {
        name: format!("{name}.relu"),
    }
}
fn pool(name: &str) -> LayerSpec {
    LayerSpec::MaxPool2d {
        name: format!("{name}.pool"),
        k: 2,
        stride: 2,
    }
}
fn linear(name: &str, i: usize, o: usize) -> LayerSpec {
    LayerSpec::Linear {
        name: name.into(),
        in_f: i,
        out_f: o,
    }
}
fn gap() -> LayerSpec {
    LayerSpec::GlobalAvgPool {
        name: "gap".into(),
        keep_spatial: false,
    }
}
/// `conv1 relu pool conv2 relu pool …` over the channel list; the last block keeps its
/// resolution (no pool) unless `pool_last`.
fn conv_blocks(channels: &[usize], pool_last: bool) -> Vec<LayerSpec> {
    let blocks = channels.len() - 1;
    let mut layers = Vec::new();
    for i in 0..blocks {
        let name = format!("conv{}", i + 1);
        layers.extend([conv(&name, channels[i], channels[i + 1]), relu(&name)]);
        if i + 1 < blocks || pool_last {
            layers.push(pool(&name));
        }
    }
    layers
}

/// Global average pooling then one linear layer `fc`: the CAM head.
fn gap_head(mut layers: Vec<LayerSpec>, features: usize, classes: usize) -> Vec<LayerSpec> {
    layers.extend([gap(), linear("fc", features, classes)]);
    layers
}

fn digits() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}

impl Arch {
    /// A reference architecture by name, or a `seq:` layer list.
    pub fn from_name(name: &str) -> Result<Arch> {
        let mnist = Some(vec![1, 28, 28]);
        let (layers, input, classes) = match name {
            "mnist-cnn" => {
                let mut l = conv_blocks(&[1, 8, 16], true);
                l.push(LayerSpec::Flatten {
                    name: "flatten".into(),
                });
                l.extend([linear("fc1", 784, 64), relu("fc1"), linear("fc2", 64, 10)]);
                (l, mnist, digits())
            }
            "mnist-gap" => (
                gap_head(conv_blocks(&[1, 16, 32, 64], false), 64, 10),
                mnist,
                digits(),
            ),
            "mnist-gru" => (
                vec![
                    LayerSpec::Gru {
                        name: "gru".into(),
                        input: 28,
                        hidden: 64,
                        sequence: false,
                    },
                    linear("fc", 64, 10),
                ],
                mnist,
                digits(),
            ),
            "mnist-attn-gru" => (
                vec![
                    LayerSpec::Gru {
                        name: "gru".into(),
                        input: 28,
                        hidden: 64,
                        sequence: true,
                    },
                    LayerSpec::AttentionPool {
                        name: "attn".into(),
                        hidden: 64,
                        dim: 32,
                    },
                    linear("fc", 64, 10),
                ],
                mnist,
                digits(),
            ),
            // softmax regression: the "interpretable model" whose weights are pictures
            "mnist-linear" => (
                vec![
                    LayerSpec::Flatten {
                        name: "flatten".into(),
                    },
                    linear("fc", 784, 10),
                ],
                mnist,
                digits(),
            ),
            "mnist-vae" => {
                return Ok(super::vae::vae_arch(
                    name,
                    &[1, 28, 28],
                    super::vae::HIDDEN,
                    super::vae::LATENT,
                ));
            }
            "pokedigi-gap" => (
                gap_head(conv_blocks(&[3, 16, 32, 64, 64], false), 64, 2),
                Some(vec![3, 64, 64]),
                vec!["pokemon".into(), "digimon".into()],
            ),
            _ => {
                if let Some(list) = name.strip_prefix("seq:") {
                    return parse_seq(name, list);
                }
                return Err(Error::Invalid(format!(
                    "unknown architecture '{name}': use one of {} or a 'seq:' layer list such as \
                     seq:conv2d(1,8,3,stride=1,padding=1),relu,maxpool2d(2),flatten,linear(1568,10)",
                    REFERENCE_ARCHS.join(", ")
                )));
            }
        };
        Ok(Arch {
            name: name.into(),
            layers,
            input,
            classes,
        })
    }

    /// Whether this is a VAE's parameter list (`encoder.*` then `decoder.*`, see
    /// [`super::vae`]) rather than a sequence of layers to run.
    pub fn is_vae(&self) -> bool {
        let has = |n: &str| self.layers.iter().any(|l| l.name() == n);
        has("encoder.fc2") && has("decoder.fc1")
    }

    /// Number of outputs of the last layer that has parameters.
    pub fn num_classes(&self) -> usize {
        self.layers
            .iter()
            .rev()
            .find_map(|l| match l {
                LayerSpec::Linear { out_f, .. } => Some(*out_f),
                LayerSpec::Conv2d { out_ch, .. } => Some(*out_ch),
                LayerSpec::Gru { hidden, .. } => Some(*hidden),
                _ => None,
            })
            .unwrap_or(0)
    }

    /// All parameters in state-dict order: (name, shape, fan-in).
    pub fn params(&self) -> Vec<(String, Vec<usize>, usize)> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }

    /// Refuses, before anything is allocated, an architecture whose f32 parameters would
    /// take more than [`max_param_bytes`] (2 GiB unless `LAMPPOST_MAX_PARAM_GIB` says
    /// otherwise); training needs about four times that (gradients, Adam's two moments).
    pub fn check_size(&self) -> Result<()> {
        let limit = max_param_bytes();
        let bytes = self
            .params()
            .iter()
            .try_fold(0u128, |acc, p| {
                let n =
                    p.1.iter()
                        .try_fold(1u128, |a, &d| a.checked_mul(d as u128))?;
                acc.checked_add(n.checked_mul(4)?)
            })
            .unwrap_or(u128::MAX);
        if bytes > limit as u128 {
            return Err(Error::Invalid(format!(
                "{}: its parameters would take {} as f32, above the limit of {}; use smaller \
                 layers, or raise the limit with LAMPPOST_MAX_PARAM_GIB=N if this machine has the memory",
                self.name,
                human_bytes(bytes),
                human_bytes(limit as u128)
            )));
        }
        Ok(())
    }
}

/// The largest parameter size [`Arch::check_size`] accepts, in bytes.
pub fn max_param_bytes() -> u64 {
    std::env::var("LAMPPOST_MAX_PARAM_GIB")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|g| g.is_finite() && *g > 0.0)
        .map_or(2 << 30, |g| (g * (1u64 << 30) as f64) as u64)
}

/// Bytes as `1.5 GiB`, `12.0 MiB`, ...
fn human_bytes(b: u128) -> String {
    let b = b as f64;
    if b >= (1u64 << 40) as f64 * 1024.0 {
        format!("{:.3e} bytes", b)
    } else if b >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", b / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", b / (1u64 << 20) as f64)
    }
}

/// Splits `a(1,2),b,c(3)` at the commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, ch) in s.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

/// Parses one layer `kind(args)` of a `seq:` list at Sequential index `i`.
fn parse_layer(i: usize, item: &str) -> Result<LayerSpec> {
    let bad = |why: &str| Error::Invalid(format!("layer {i} '{item}' of the seq: list: {why}"));
    let (kind, args) = match item.find('(') {
        Some(p) if item.ends_with(')') => (&item[..p], &item[p + 1..item.len() - 1]),
        Some(_) => return Err(bad("missing ')'")),
        None => (item, ""),
    };
    let mut pos = Vec::new();
    let mut named = std::collections::BTreeMap::new();
    for a in args.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let parse = |v: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| bad(&format!("'{v}' is not a whole number")))
        };
        match a.split_once('=') {
            Some((k, v)) => {
                named.insert(k.trim().to_string(), parse(v)?);
            }
            None => pos.push(parse(a)?),
        }
    }
    let name = i.to_string();
    let need = |n: usize| {
        if pos.len() == n {
            Ok(())
        } else {
            Err(bad(&format!("expects {n} positional arguments")))
        }
    };
    let opt = |k: &str, d: usize| named.get(k).copied().unwrap_or(d);
    let layer = match kind.to_ascii_lowercase().as_str() {
        "conv2d" => {
            need(3)?;
            LayerSpec::Conv2d {
                name,
                in_ch: pos[0],
                out_ch: pos[1],
                k: pos[2],
                stride: opt("stride", 1),
                pad: opt("padding", 0),
            }
        }
        "relu" => LayerSpec::Relu { name },
        "tanh" => LayerSpec::Tanh { name },
        "maxpool2d" => {
            need(1)?;
            LayerSpec::MaxPool2d {
                name,
                k: pos[0],
                stride: opt("stride", pos[0]),
            }
        }
        "adaptiveavgpool2d" => {
            if pos != [1] {
                return Err(bad("only AdaptiveAvgPool2d(1) is supported"));
            }
            LayerSpec::GlobalAvgPool {
                name,
                keep_spatial: true,
            }
        }
        "flatten" => LayerSpec::Flatten { name },
        "linear" => {
            need(2)?;
            LayerSpec::Linear {
                name,
                in_f: pos[0],
                out_f: pos[1],
            }
        }
        other => {
            return Err(bad(&format!(
                "unknown layer '{other}' (supported: conv2d, relu, tanh, maxpool2d, adaptiveavgpool2d, flatten, linear)"
            )));
        }
    };
    let zero = match &layer {
        LayerSpec::Conv2d {
            in_ch,
            out_ch,
            k,
            stride,
            ..
        } => *in_ch == 0 || *out_ch == 0 || *k == 0 || *stride == 0,
        LayerSpec::MaxPool2d { k, stride, .. } => *k == 0 || *stride == 0,
        LayerSpec::Linear { in_f, out_f, .. } => *in_f == 0 || *out_f == 0,
        _ => false,
    };
    if zero {
        return Err(bad("sizes must be at least 1"));
    }
    Ok(layer)
}

fn parse_seq(full: &str, list: &str) -> Result<Arch> {
    let layers = split_top(list)
        .into_iter()
        .enumerate()
        .map(|(i, s)| parse_layer(i, s))
        .collect::<Result<Vec<_>>>()?;
    if layers.is_empty() {
        return Err(Error::Invalid("empty seq: layer list".into()));
    }
    let mut arch = Arch {
        name: full.into(),
        layers,
        input: None,
        classes: vec![],
    };
    arch.check_size()?;
    arch.classes = (0..arch.num_classes()).map(|c| c.to_string()).collect();
    Ok(arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_param_names_follow_pytorch() {
        let names: Vec<String> = Arch::from_name("mnist-gru")
            .unwrap()
            .params()
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            names,
            [
                "gru.weight_ih_l0",
                "gru.weight_hh_l0",
                "gru.bias_ih_l0",
                "gru.bias_hh_l0",
                "fc.weight",
                "fc.bias"
            ]
        );
        let attn: Vec<String> = Arch::from_name("mnist-attn-gru")
            .unwrap()
            .params()
            .into_iter()
            .map(|p| p.0)
            .collect();
        // the names of tests/golden/lamppost_torch.py's MnistAttnGru (nn.GRU, then
        // attn.proj = nn.Linear(64, 32), attn.v = nn.Linear(32, 1, bias=False), fc)
        assert_eq!(
            attn[4..7],
            ["attn.proj.weight", "attn.proj.bias", "attn.v.weight"]
        );
        let cnn = Arch::from_name("mnist-cnn").unwrap().params();
        assert_eq!(cnn[0].1, vec![8, 1, 3, 3]);
        assert_eq!(cnn[4].1, vec![64, 784]);
    }

    #[test]
    fn seq_list_uses_sequential_indices() {
        let a = Arch::from_name(
            "seq:conv2d(1,8,3,stride=1,padding=1),relu,maxpool2d(2),flatten,linear(1568,10)",
        )
        .unwrap();
        let names: Vec<String> = a.params().into_iter().map(|p| p.0).collect();
        assert_eq!(names, ["0.weight", "0.bias", "4.weight", "4.bias"]);
        assert_eq!(a.num_classes(), 10);
        assert_eq!(
            a.layers[2],
            LayerSpec::MaxPool2d {
                name: "2".into(),
                k: 2,
                stride: 2
            }
        );
    }

    #[test]
    fn bad_names_say_what_is_known() {
        let e = Arch::from_name("resnet").unwrap_err().to_string();
        assert!(e.contains("mnist-cnn") && e.contains("seq:"), "{e}");
        assert!(
            Arch::from_name("seq:conv2d(1,8),relu")
                .unwrap_err()
                .to_string()
                .contains("3 positional")
        );
        assert!(
            Arch::from_name("seq:softmax")
                .unwrap_err()
                .to_string()
                .contains("unknown layer")
        );
        assert!(Arch::from_name("seq:linear(0,3)").is_err());
    }
}
