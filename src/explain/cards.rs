//! The lecture card of each method: its formula (MathML, which browsers render without
//! a network), the paper, and one sentence a teacher says while the picture is shown.
//! Every registry row needs a card (tested), so a new method arrives with its formula.

/// What the report shows beside a method's pictures.
pub struct Card {
    pub name: &'static str,
    /// The formula as MathML content of a `<math>` element.
    pub formula: &'static str,
    pub paper: &'static str,
    pub caption: &'static str,
}

macro_rules! card {
    ($name:expr, $formula:expr, $paper:expr, $caption:expr) => {
        Card {
            name: $name,
            formula: $formula,
            paper: $paper,
            caption: $caption,
        }
    };
}

/// One card per method, in the registry's order.
pub const CARDS: &[Card] = &[
    card!(
        "saliency",
        "<msub><mi>S</mi><mi>c</mi></msub><mo>(</mo><mi>x</mi><mo>)</mo><mo>=</mo><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><mi>x</mi></mrow></mfrac>",
        "Simonyan, Vedaldi & Zisserman 2014, Deep Inside Convolutional Networks",
        "How much the class score moves when each pixel moves a little: local, noisy, and blind to pixels the network saturates."
    ),
    card!(
        "grad-x-input",
        "<mi>x</mi><mo>⊙</mo><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><mi>x</mi></mrow></mfrac>",
        "Shrikumar et al. 2016, Not Just a Black Box",
        "The gradient weighted by the input: zero wherever the input is zero, so black backgrounds get nothing whatever the model does with them."
    ),
    card!(
        "smoothgrad",
        "<mfrac><mn>1</mn><mi>n</mi></mfrac><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><mi>x</mi></mrow></mfrac><mo>(</mo><mi>x</mi><mo>+</mo><msub><mi>ε</mi><mi>i</mi></msub><mo>)</mo><mo>,</mo><mspace width='0.5em'/><msub><mi>ε</mi><mi>i</mi></msub><mo>∼</mo><mi>𝒩</mi><mo>(</mo><mn>0</mn><mo>,</mo><msup><mi>σ</mi><mn>2</mn></msup><mo>)</mo>",
        "Smilkov et al. 2017, SmoothGrad: removing noise by adding noise",
        "Averaging gradients over noisy copies removes the speckle of the plain gradient; σ is a fraction of the input's range."
    ),
    card!(
        "smoothgrad-squared",
        "<mfrac><mn>1</mn><mi>n</mi></mfrac><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><msubsup><mi>g</mi><mi>i</mi><mn>2</mn></msubsup><mo>,</mo><mspace width='0.5em'/><msub><mi>g</mi><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><mi>x</mi></mrow></mfrac><mo>(</mo><mi>x</mi><mo>+</mo><msub><mi>ε</mi><mi>i</mi></msub><mo>)</mo>",
        "Hooker et al. 2019, A Benchmark for Interpretability Methods in Deep Neural Networks (SG-SQ)",
        "The mean of squared noisy gradients: never negative, so large gradients of either sign count; in Hooker et al.'s ROAR it beat random removal where the plain gradient did not."
    ),
    card!(
        "vargrad",
        "<mfrac><mn>1</mn><mi>n</mi></mfrac><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><msup><mrow><mo>(</mo><msub><mi>g</mi><mi>i</mi></msub><mo>−</mo><mover><mi>g</mi><mo>¯</mo></mover><mo>)</mo></mrow><mn>2</mn></msup><mo>,</mo><mspace width='0.5em'/><msub><mi>g</mi><mi>i</mi></msub><mo>=</mo><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><mi>x</mi></mrow></mfrac><mo>(</mo><mi>x</mi><mo>+</mo><msub><mi>ε</mi><mi>i</mi></msub><mo>)</mo>",
        "Adebayo et al. 2018, Local Explanation Methods for Deep Neural Networks Lack Sensitivity to Parameter Values (VarGrad)",
        "The variance of the noisy gradients: where the gradient changes most under noise, not where it is large; Hooker et al. found it one of the few methods that beat random removal."
    ),
    card!(
        "integrated-gradients",
        "<mo>(</mo><msub><mi>x</mi><mi>i</mi></msub><mo>−</mo><msubsup><mi>x</mi><mi>i</mi><mo>′</mo></msubsup><mo>)</mo><msubsup><mo>∫</mo><mn>0</mn><mn>1</mn></msubsup><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub><mo>(</mo><msup><mi>x</mi><mo>′</mo></msup><mo>+</mo><mi>α</mi><mo>(</mo><mi>x</mi><mo>−</mo><msup><mi>x</mi><mo>′</mo></msup><mo>)</mo><mo>)</mo></mrow><mrow><mo>∂</mo><msub><mi>x</mi><mi>i</mi></msub></mrow></mfrac><mi>d</mi><mi>α</mi>",
        "Sundararajan, Taly & Yan 2017, Axiomatic Attribution for Deep Networks",
        "Gradients summed along the straight path from a baseline; the maps add up to the score difference (completeness), but only relative to that baseline."
    ),
    card!(
        "guided-backprop",
        "<msup><mi>R</mi><mi>l</mi></msup><mo>=</mo><msub><mn>𝟙</mn><mrow><msup><mi>a</mi><mi>l</mi></msup><mo>&gt;</mo><mn>0</mn></mrow></msub><mo>⊙</mo><msub><mn>𝟙</mn><mrow><msup><mi>R</mi><mrow><mi>l</mi><mo>+</mo><mn>1</mn></mrow></msup><mo>&gt;</mo><mn>0</mn></mrow></msub><mo>⊙</mo><msup><mi>R</mi><mrow><mi>l</mi><mo>+</mo><mn>1</mn></mrow></msup>",
        "Springenberg et al. 2015, Striving for Simplicity: The All Convolutional Net",
        "Back-propagation that stops negative signals at every ReLU: sharp edges, but Adebayo et al. show the picture barely depends on the class."
    ),
    card!(
        "deconvnet",
        "<msup><mi>R</mi><mi>l</mi></msup><mo>=</mo><msub><mn>𝟙</mn><mrow><msup><mi>R</mi><mrow><mi>l</mi><mo>+</mo><mn>1</mn></mrow></msup><mo>&gt;</mo><mn>0</mn></mrow></msub><mo>⊙</mo><msup><mi>R</mi><mrow><mi>l</mi><mo>+</mo><mn>1</mn></mrow></msup>",
        "Zeiler & Fergus 2014, Visualizing and Understanding Convolutional Networks",
        "A ReLU on the backward signal instead of the forward mask: what patterns would excite the unit, not what in this input did."
    ),
    card!(
        "occlusion",
        "<msub><mi>y</mi><mi>c</mi></msub><mo>(</mo><mi>x</mi><mo>)</mo><mo>−</mo><msub><mi>y</mi><mi>c</mi></msub><mo>(</mo><mi>x</mi><mo>with window</mo><mi>W</mi><mo>filled</mo><mo>)</mo><mo>,</mo><mspace width='0.5em'/><mtext>averaged over the windows covering each pixel</mtext>",
        "Zeiler & Fergus 2014, Visualizing and Understanding Convolutional Networks",
        "Hide a patch, watch the score fall: a direct test, whose answer depends on what the patch is filled with."
    ),
    card!(
        "rise",
        "<msub><mi>S</mi><mi>c</mi></msub><mo>=</mo><mfrac><mn>1</mn><mrow><mi>N</mi><msub><mi>p</mi><mn>1</mn></msub></mrow></mfrac><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>N</mi></munderover><msub><mi>P</mi><mi>c</mi></msub><mo>(</mo><mi>x</mi><mo>⊙</mo><msub><mi>M</mi><mi>i</mi></msub><mo>)</mo><mspace width='0.2em'/><msub><mi>M</mi><mi>i</mi></msub>",
        "Petsiuk, Das & Saenko 2018, RISE: Randomized Input Sampling for Explanation of Black-box Models",
        "Show the model thousands of random partial views; a pixel matters if the class is likely whenever it is visible. No gradients needed."
    ),
    card!(
        "cam",
        "<msub><mi>M</mi><mi>c</mi></msub><mo>=</mo><munder><mo>∑</mo><mi>k</mi></munder><msubsup><mi>w</mi><mi>k</mi><mi>c</mi></msubsup><msub><mi>A</mi><mi>k</mi></msub>",
        "Zhou et al. 2016, Learning Deep Features for Discriminative Localization",
        "For a network that averages its last maps and applies one linear layer, the class score is exactly the average of this map."
    ),
    card!(
        "grad-cam",
        "<mtext>ReLU</mtext><mo>(</mo><munder><mo>∑</mo><mi>k</mi></munder><msubsup><mi>α</mi><mi>k</mi><mi>c</mi></msubsup><msub><mi>A</mi><mi>k</mi></msub><mo>)</mo><mo>,</mo><mspace width='0.5em'/><msubsup><mi>α</mi><mi>k</mi><mi>c</mi></msubsup><mo>=</mo><mfrac><mn>1</mn><mi>Z</mi></mfrac><munder><mo>∑</mo><mrow><mi>i</mi><mo>,</mo><mi>j</mi></mrow></munder><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><msubsup><mi>A</mi><mrow><mi>i</mi><mi>j</mi></mrow><mi>k</mi></msubsup></mrow></mfrac>",
        "Selvaraju et al. 2017, Grad-CAM",
        "CAM for any network: each map weighted by its mean gradient. Coarse (the layer's resolution), class-discriminative."
    ),
    card!(
        "guided-grad-cam",
        "<mtext>GuidedBackprop</mtext><mo>⊙</mo><mtext>upsample</mtext><mo>(</mo><msubsup><mi>L</mi><mtext>Grad-CAM</mtext><mi>c</mi></msubsup><mo>)</mo>",
        "Selvaraju et al. 2017, Grad-CAM",
        "Sharp edges from guided backprop, kept where Grad-CAM says the class is."
    ),
    card!(
        "grad-cam++",
        "<msubsup><mi>α</mi><mi>k</mi><mi>c</mi></msubsup><mo>=</mo><munder><mo>∑</mo><mrow><mi>i</mi><mi>j</mi></mrow></munder><mfrac><msup><mi>g</mi><mn>2</mn></msup><mrow><mn>2</mn><msup><mi>g</mi><mn>2</mn></msup><mo>+</mo><msub><mo>∑</mo><mrow><mi>a</mi><mi>b</mi></mrow></msub><msub><mi>A</mi><mrow><mi>a</mi><mi>b</mi></mrow></msub><msup><mi>g</mi><mn>3</mn></msup></mrow></mfrac><mtext>ReLU</mtext><mo>(</mo><mi>g</mi><mo>)</mo><mo>,</mo><mspace width='0.5em'/><mi>g</mi><mo>=</mo><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><msub><mi>A</mi><mrow><mi>i</mi><mi>j</mi></mrow></msub></mrow></mfrac>",
        "Chattopadhay et al. 2018, Grad-CAM++",
        "Positive gradients weighted so that several instances of the class each get their share."
    ),
    card!(
        "xgrad-cam",
        "<msubsup><mi>α</mi><mi>k</mi><mi>c</mi></msubsup><mo>=</mo><munder><mo>∑</mo><mrow><mi>i</mi><mi>j</mi></mrow></munder><mfrac><msubsup><mi>A</mi><mrow><mi>i</mi><mi>j</mi></mrow><mi>k</mi></msubsup><mrow><msub><mo>∑</mo><mrow><mi>a</mi><mi>b</mi></mrow></msub><msubsup><mi>A</mi><mrow><mi>a</mi><mi>b</mi></mrow><mi>k</mi></msubsup></mrow></mfrac><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><msubsup><mi>A</mi><mrow><mi>i</mi><mi>j</mi></mrow><mi>k</mi></msubsup></mrow></mfrac>",
        "Fu et al. 2020, Axiom-based Grad-CAM",
        "Gradients weighted by the normalized activations, chosen to satisfy sensitivity and conservation."
    ),
    card!(
        "hires-cam",
        "<munder><mo>∑</mo><mi>k</mi></munder><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><msub><mi>A</mi><mi>k</mi></msub></mrow></mfrac><mo>⊙</mo><msub><mi>A</mi><mi>k</mi></msub>",
        "Draelos & Carin 2020, HiResCAM",
        "Element-wise gradient times activation, without averaging first: faithful to where the model looked for this kind of head."
    ),
    card!(
        "layer-cam",
        "<munder><mo>∑</mo><mi>k</mi></munder><mtext>ReLU</mtext><mo>(</mo><mfrac><mrow><mo>∂</mo><msub><mi>y</mi><mi>c</mi></msub></mrow><mrow><mo>∂</mo><msub><mi>A</mi><mi>k</mi></msub></mrow></mfrac><mo>)</mo><mo>⊙</mo><msub><mi>A</mi><mi>k</mi></msub>",
        "Jiang et al. 2021, LayerCAM",
        "Only positive gradients, element by element: usable at earlier, finer layers too."
    ),
    card!(
        "eigen-cam",
        "<msub><mi>A</mi><mi>k</mi></msub><mo>projected on the first principal component of</mo><mo>{</mo><msub><mi>A</mi><mi>k</mi></msub><mo>}</mo>",
        "Muhammad & Yeasin 2020, Eigen-CAM",
        "No gradients and no class: the dominant pattern of the maps. The same picture for every class."
    ),
    card!(
        "ablation-cam",
        "<msubsup><mi>α</mi><mi>k</mi><mi>c</mi></msubsup><mo>=</mo><mfrac><mrow><msub><mi>y</mi><mi>c</mi></msub><mo>−</mo><msubsup><mi>y</mi><mi>c</mi><mi>k</mi></msubsup></mrow><msub><mi>y</mi><mi>c</mi></msub></mfrac>",
        "Desai & Ramaswamy 2020, Ablation-CAM",
        "Zero one map at a time and measure the relative drop of the class score: no gradients, one pass per channel."
    ),
    card!(
        "score-cam",
        "<msubsup><mi>α</mi><mi>k</mi><mi>c</mi></msubsup><mo>=</mo><mtext>softmax</mtext><msub><mo>(</mo><mi>c</mi></msub><mi>f</mi><mo>(</mo><mi>x</mi><mo>⊙</mo><mtext>norm</mtext><mo>(</mo><mtext>up</mtext><mo>(</mo><msub><mi>A</mi><mi>k</mi></msub><mo>)</mo><mo>)</mo><mo>)</mo><mo>)</mo>",
        "Wang et al. 2020, Score-CAM",
        "Each map used as a mask on the input; its weight is the class probability of what the mask lets through."
    ),
    card!(
        "lime",
        "<munder><mo>argmin</mo><mi>g</mi></munder><munder><mo>∑</mo><mi>z</mi></munder><msub><mi>π</mi><mi>x</mi></msub><mo>(</mo><mi>z</mi><mo>)</mo><msup><mrow><mo>(</mo><mi>f</mi><mo>(</mo><mi>z</mi><mo>)</mo><mo>−</mo><mi>g</mi><mo>(</mo><msup><mi>z</mi><mo>′</mo></msup><mo>)</mo><mo>)</mo></mrow><mn>2</mn></msup><mo>+</mo><mi>Ω</mi><mo>(</mo><mi>g</mi><mo>)</mo>",
        "Ribeiro, Singh & Guestrin 2016, \"Why Should I Trust You?\"",
        "A weighted linear model of the classifier on superpixels switched on and off: what is hidden, and with what, decides the answer."
    ),
    card!(
        "normlime",
        "<msub><mi>w</mi><mi>j</mi></msub><mo>=</mo><mfrac><mn>1</mn><mi>N</mi></mfrac><munder><mo>∑</mo><mi>n</mi></munder><mfrac><mrow><mo>|</mo><msubsup><mi>w</mi><mi>j</mi><mi>n</mi></msubsup><mo>|</mo></mrow><mrow><msub><mo>∑</mo><mi>i</mi></msub><mo>|</mo><msubsup><mi>w</mi><mi>i</mi><mi>n</mi></msubsup><mo>|</mo></mrow></mfrac>",
        "Ahern et al. 2019, NormLIME",
        "LIME's weights normalized per explanation and averaged over a batch: a global importance per grid cell."
    ),
];

/// The card of a method.
pub fn card(name: &str) -> Option<&'static Card> {
    CARDS.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_registry_method_has_a_card() {
        for name in super::super::registry::names() {
            let c = super::card(name).unwrap_or_else(|| panic!("{name} has no card"));
            assert!(c.formula.starts_with('<') && !c.paper.is_empty() && !c.caption.is_empty());
        }
    }
}
